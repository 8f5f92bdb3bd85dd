/// The one allowlist check behind every name Tenanted takes from outside that is not a tenant name:
/// host labels, server names, name prefixes, app names of record references. Each is a set of
/// ASCII characters and a length; nothing else (no non-ASCII, no lookalike) ever passes.
///
/// Tenant names have their own, stricter check in ``TenantID``, which also says what is wrong.
package struct ASCIIAllowlist: Sendable {
    private var allowed = [Bool](repeating: false, count: 128)

    /// Letters a-z, and A-Z when `uppercase`, digits 0-9, and the characters of `others`.
    package init(uppercase: Bool, others: String) {
        for byte in UInt8(ascii: "a")...UInt8(ascii: "z") { allowed[Int(byte)] = true }
        for byte in UInt8(ascii: "0")...UInt8(ascii: "9") { allowed[Int(byte)] = true }
        if uppercase { for byte in UInt8(ascii: "A")...UInt8(ascii: "Z") { allowed[Int(byte)] = true } }
        for byte in others.utf8 where byte < 128 { allowed[Int(byte)] = true }
    }

    /// Whether `text` is 1 to `maximumLength` bytes, each allowed.
    package func allows(_ text: some StringProtocol, maximumLength: Int = 63) -> Bool {
        let bytes = text.utf8
        return !bytes.isEmpty && bytes.count <= maximumLength && bytes.allSatisfy { $0 < 128 && allowed[Int($0)] }
    }

    /// A DNS label: letters of either case, digits and `-`.
    package static let hostLabel = ASCIIAllowlist(uppercase: true, others: "-")
    /// A name of configuration: letters of either case, digits, `-` and `_`.
    package static let name = ASCIIAllowlist(uppercase: true, others: "-_")
    /// A tenant file's name: letters of either case, digits, `.`, `-` and `_` (``TenantFileKey`` adds its rules).
    package static let fileKey = ASCIIAllowlist(uppercase: true, others: ".-_")
    /// A lowercase SQL identifier part: lowercase letters, digits and `_`.
    package static let lowercaseIdentifier = ASCIIAllowlist(uppercase: false, others: "_")

    /// A host name: 1 to 253 bytes of dot-separated ``hostLabel``s.
    package static func isHostName(_ text: some StringProtocol) -> Bool {
        text.utf8.count <= 253
            && text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { hostLabel.allows($0) }
    }
}
