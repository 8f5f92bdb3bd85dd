extension TenantID {
    /// The 32-bit FNV-1a hash of the name: stable across processes, releases and platforms (unlike
    /// Swift's seeded `Hasher`), for what is stored or shared — bucket directories of files.
    package var stableHash32: UInt32 { Self.fnv1a(rawValue, offset: 2_166_136_261, prime: 16_777_619) }

    /// The 64-bit FNV-1a hash of the name, as stable as ``stableHash32`` — placement over servers.
    package var stableHash64: UInt64 { Self.fnv1a(rawValue, offset: 0xcbf2_9ce4_8422_2325, prime: 0x100_0000_01b3) }

    static func fnv1a<Hash: FixedWidthInteger & UnsignedInteger>(_ text: String, offset: Hash, prime: Hash) -> Hash {
        var hash = offset
        for byte in text.utf8 {
            hash = (hash ^ Hash(byte)) &* prime
        }
        return hash
    }
}
