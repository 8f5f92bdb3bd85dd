/// The name of one tenant file: checked against an allowlist before it reaches the file system.
///
/// Letters, digits, `.`, `-` and `_`; 1 to 200 bytes; no leading `.` (no hidden files, no `.` or
/// `..`) and no `..` anywhere. So a key is always one plain name inside the tenant's folder: it can
/// hold no `/`, `\`, NUL, `%`, space or anything non-ASCII.
public struct TenantFileKey: Sendable, Hashable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The longest key, in bytes.
    public static let maximumLength = 200

    /// The key.
    public let rawValue: String

    /// Checks `name`.
    /// - Throws: ``TenantedError/Code/badFileName`` saying what is wrong (never echoing more than a
    ///   short, escaped prefix of the input).
    public init(_ name: String) throws(TenantedError) {
        func refuse(_ reason: String) -> TenantedError {
            TenantedError(.badFileName, "invalid file name: \(reason)")
        }
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty else { throw refuse("empty") }
        guard bytes.count <= Self.maximumLength else { throw refuse("longer than \(Self.maximumLength) bytes") }
        guard bytes[0] != UInt8(ascii: ".") else { throw refuse("starts with '.'") }
        guard ASCIIAllowlist.fileKey.allows(name, maximumLength: Self.maximumLength) else {
            throw refuse("only letters, digits, '.', '-' and '_' are allowed")
        }
        guard !name.contains("..") else { throw refuse("contains '..'") }
        rawValue = name
    }

    /// A key from a literal; traps on an invalid literal (a programming error).
    public init(stringLiteral value: String) {
        do { try self.init(value) } catch { preconditionFailure("\(error)") }
    }

    public var description: String { rawValue }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}
