import Tenanted

/// Where a tenant's database file lives, relative to the store's root.
///
/// Tokens: `%{tenant}` (the tenant's name, required), `%{bucket}` (optional; two directory levels
/// of two hex digits each, e.g. `3f/a2`, from the first two bytes of the 32-bit FNV-1a hash of the
/// name, so 100,000 tenants do not share one directory) and `%{bucket1}` (optional; one directory
/// level, the first of `%{bucket}`'s two, e.g. `3f`: 256 folders, about 400 tenants each at 100,000).
/// A bucket token must be a whole path component.
///
/// `%{bucket1}` suits large stores best: 100,000 tenants in `tenants/%{bucket1}/%{tenant}.sqlite3`
/// sit in 256 folders, where `%{bucket}` spreads them over up to 65,536 folders of one or two each,
/// and listing reads every folder. The two tokens place a tenant differently, so a store's template
/// cannot change from one to the other without moving its files.
///
/// The template is relative (no leading `/`), has no empty, `.` or `..` components and no other
/// `%` sequences. Listing matches it exactly: every component is an anchored pattern with its
/// literal parts escaped, so stray files never look like tenants.
struct PathTemplate: Sendable, Equatable {
    enum Piece: Sendable, Equatable {
        case literal(String)
        case tenant
        /// One of the two bucket levels (0 or 1).
        case bucket(Int)
    }

    /// The template's components, `%{bucket}` already split into its two levels.
    let components: [[Piece]]
    /// The first component that names the tenant: directories from there down belong to one tenant.
    let firstTenantComponent: Int

    init(_ template: String) throws(TenantedError) {
        func invalid(_ reason: String) -> TenantedError {
            TenantedError(.invalidConfiguration, "invalid SQLite path template: \(reason)", detail: template)
        }
        if template.isEmpty { throw invalid("it is empty") }
        if template.hasPrefix("/") { throw invalid("it must be relative to the store's root (no leading '/')") }
        if template.unicodeScalars.contains("\0") { throw invalid("it contains a NUL character") }
        var components: [[Piece]] = []
        for component in template.split(separator: "/", omittingEmptySubsequences: false) {
            if component.isEmpty { throw invalid("it has an empty path component ('//' or a trailing '/')") }
            if component == "." || component == ".." { throw invalid("it has a '\(component)' component") }
            if component == "%{bucket}" || component == "%{bucket1}" {
                components.append([.bucket(0)])
                if component == "%{bucket}" { components.append([.bucket(1)]) }
                continue
            }
            var pieces: [Piece] = []
            var literal = ""
            var rest = Substring(component)
            while let percent = rest.firstIndex(of: "%") {
                literal += rest[..<percent]
                let token = rest[percent...]
                if token.hasPrefix("%{tenant}") {
                    if !literal.isEmpty { pieces.append(.literal(literal)) }
                    literal = ""
                    pieces.append(.tenant)
                    rest = token.dropFirst("%{tenant}".count)
                } else if token.hasPrefix("%{bucket}") || token.hasPrefix("%{bucket1}") {
                    throw invalid("a bucket token must be a whole path component, like 'tenants/%{bucket1}/%{tenant}.sqlite3'")
                } else {
                    throw invalid("unknown token at '\(token.prefix(12))'; the tokens are %{tenant}, %{bucket} and %{bucket1}")
                }
            }
            literal += rest
            if !literal.isEmpty { pieces.append(.literal(literal)) }
            components.append(pieces)
        }
        guard let first = components.firstIndex(where: { $0.contains(.tenant) }) else {
            throw invalid("it does not contain %{tenant}")
        }
        if components.last?.allSatisfy({ if case .bucket = $0 { return true } else { return false } }) == true {
            throw invalid("it must end in a file name, not %{bucket}")
        }
        self.components = components
        self.firstTenantComponent = first
    }

    /// The relative path components of `tenant`'s database file.
    func components(for tenant: TenantID) -> [String] {
        let bucket = Self.bucket(of: tenant)
        return components.map { pieces in
            pieces.map { piece in
                switch piece {
                case .literal(let text): text
                case .tenant: tenant.rawValue
                case .bucket(let level): bucket[level]
                }
            }.joined()
        }
    }

    /// The two bucket directory names of `tenant`: the first two bytes of its FNV-1a hash, in hex.
    ///
    /// Stable across processes, versions and platforms (unlike `Hasher`), because files depend on it.
    static func bucket(of tenant: TenantID) -> [String] {
        let hash = tenant.stableHash32
        return [UInt8(truncatingIfNeeded: hash >> 24), UInt8(truncatingIfNeeded: hash >> 16)].map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }
    }

    /// For a component that is `%{tenant}` once, with literal text only before and after it (as
    /// `%{tenant}`, `%{tenant}.sqlite3` or `db-%{tenant}`), that text: its directory entries are then
    /// matched by a prefix, a suffix and the name rules, without a regular expression.
    func tenantAffixes(_ index: Int) -> (prefix: String, suffix: String)? {
        var prefix = ""
        var suffix = ""
        var seenTenant = false
        for piece in components[index] {
            switch piece {
            case .literal(let text): if seenTenant { suffix += text } else { prefix += text }
            case .tenant: if seenTenant { return nil } else { seenTenant = true }
            case .bucket: return nil
            }
        }
        return seenTenant ? (prefix, suffix) : nil
    }

    /// The tenant name in `entry` when it is `prefix`, a valid name, then `suffix`
    /// (see ``tenantAffixes(_:)``), compared byte by byte.
    static func tenantName(in entry: String, prefix: String, suffix: String) -> Substring? {
        let bytes = entry.utf8
        guard bytes.count > prefix.utf8.count + suffix.utf8.count,
            bytes.starts(with: prefix.utf8), bytes.reversed().starts(with: suffix.utf8.reversed())
        else { return nil }
        let start = bytes.index(bytes.startIndex, offsetBy: prefix.utf8.count)
        let end = bytes.index(bytes.endIndex, offsetBy: -suffix.utf8.count)
        let name = entry[start..<end]
        return TenantID.isValid(String(name)) ? name : nil
    }

    /// The bucket level of component `index` when it is one (as every bucket token is): its
    /// directory entries are then matched by ``bucketByte(_:)`` alone, without a regular expression.
    func bucketLevel(_ index: Int) -> Int? {
        guard components[index].count == 1, case .bucket(let level) = components[index][0] else { return nil }
        return level
    }

    /// The byte a bucket directory's name spells, or `nil` when `name` cannot be a bucket: two
    /// lowercase hex digits, as ``bucket(of:)`` spells them.
    static func bucketByte(_ name: String) -> UInt8? {
        let bytes = name.utf8
        guard bytes.count == 2 else { return nil }
        var value: UInt8 = 0
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = value << 4 | (byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = value << 4 | (byte - UInt8(ascii: "a") + 10)
            default: return nil
            }
        }
        return value
    }

    /// The byte of `tenant`'s bucket at `level` (0 or 1): the byte ``bucket(of:)`` spells in hex.
    static func bucketByte(of tenant: TenantID, level: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: tenant.stableHash32 >> (level == 0 ? 24 : 16))
    }

    /// Whether component `index` has no token (so it is the same for every tenant).
    func isLiteral(_ index: Int) -> Bool {
        components[index].allSatisfy { if case .literal = $0 { return true } else { return false } }
    }

    /// An anchored pattern for component `index`; it captures every `%{tenant}` in order.
    func pattern(_ index: Int) throws -> Regex<AnyRegexOutput> {
        var pattern = "^"
        for piece in components[index] {
            switch piece {
            case .literal(let text):
                for character in text.unicodeScalars {
                    if character.isASCII, !(character.properties.isAlphabetic || ("0"..."9").contains(character)) {
                        pattern += "\\"
                    }
                    pattern.unicodeScalars.append(character)
                }
            case .tenant: pattern += "([a-z0-9][a-z0-9_-]{0,62})"
            case .bucket: pattern += "[0-9a-f]{2}"
            }
        }
        return try Regex(pattern + "$")
    }
}
