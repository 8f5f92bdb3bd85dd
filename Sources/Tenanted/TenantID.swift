/// A validated tenant name.
///
/// A `TenantID` is safe to put in a file path, an SQL identifier, a DNS label and a log line,
/// because it is checked against an allowlist when it is made:
///
/// - 1 to 63 characters (the length of a DNS label and of a PostgreSQL identifier);
/// - only ASCII lowercase letters `a`–`z`, digits `0`–`9`, `-` and `_`;
/// - the first character is a letter or a digit.
///
/// **Case rule:** names are lowercase, and uppercase letters are *rejected*, never folded.
/// A tenant therefore has exactly one spelling, on case-sensitive and case-insensitive file
/// systems alike. Code that reads names from a case-insensitive source (a `Host` header) lowercases
/// that source first, on purpose.
///
/// Everything else — `.`, `..`, `/`, `\`, `%`, `?`, `#`, quotes, NUL, spaces, non-ASCII look-alikes
/// such as a Cyrillic `а` — throws ``TenantedError`` with code ``TenantedError/Code/badTenantName``
/// and a message that names the rule that failed. A store may narrow the rules further.
public struct TenantID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The longest accepted name, in characters.
    public static let maximumLength = 63

    /// The validated name.
    public let rawValue: String

    /// Validates `name` and wraps it.
    ///
    /// - Throws: ``TenantedError`` with code ``TenantedError/Code/badTenantName`` saying which rule failed.
    public init(_ name: String) throws(TenantedError) {
        if let rule = Self.brokenRule(in: name) {
            throw TenantedError(.badTenantName, "invalid tenant name: \(rule)")
        }
        self.rawValue = name
    }

    /// Whether `name` is a valid tenant name.
    public static func isValid(_ name: String) -> Bool {
        brokenRule(in: name) == nil
    }

    /// The first rule `name` breaks, as a sentence fragment, or `nil` when it is valid.
    ///
    /// The fragment never echoes the raw input (which may hold control characters); it names a
    /// position and a code point instead.
    private static func brokenRule(in name: String) -> String? {
        let scalars = name.unicodeScalars
        if scalars.isEmpty { return "it is empty" }
        var count = 0
        for scalar in scalars {
            count += 1
            if count > maximumLength {
                return "it is longer than \(maximumLength) characters"
            }
            switch scalar.value {
            case 0x61...0x7A, 0x30...0x39:  // a-z, 0-9
                continue
            case 0x2D, 0x5F:  // - _
                if count == 1 { return "it must start with a letter or a digit, not '\(scalar)'" }
            case 0x41...0x5A:  // A-Z
                return "uppercase letter '\(scalar)' at position \(count); tenant names are lowercase"
            default:
                return "character \(describe(scalar)) at position \(count) is not allowed "
                    + "(allowed: a-z, 0-9, '-' and '_')"
            }
        }
        return nil
    }

    private static func describe(_ scalar: Unicode.Scalar) -> String {
        let digits = String(scalar.value, radix: 16, uppercase: true)
        let hex = "U+" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
        if scalar.value >= 0x21, scalar.value < 0x7F {
            return "'\(scalar)' (\(hex))"
        }
        return hex
    }

    public var description: String { rawValue }

    public static func < (lhs: TenantID, rhs: TenantID) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension TenantID: Codable {
    /// Decodes a single string and validates it; an invalid name is a `DecodingError.dataCorrupted`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        do {
            try self.init(name)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    /// Encodes the name as a single string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
