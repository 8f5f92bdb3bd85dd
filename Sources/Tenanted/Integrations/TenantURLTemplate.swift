/// Absolute URLs on a tenant's own host, for links that leave the request (mail, webhooks, exports):
/// `https://%{tenant}.example.com` gives `https://acme.example.com/notes/7` for tenant `acme`.
///
/// The template is checked once, when it is made: a scheme of `http` or `https`, a host, exactly one
/// `%{tenant}` and only in the host, no query, fragment or user info. A tenant name is an allowlisted
/// DNS label (``TenantID``), so the URL it builds is always well formed.
///
/// ```swift
/// let links = try TenantURLTemplate("https://%{tenant}.example.com")
/// let url = try links.url(path: "/notes/\(id)")        // the current tenant's
/// ```
public struct TenantURLTemplate: Sendable, Hashable, CustomStringConvertible {
    /// The template as given.
    public let template: String
    private let prefix: String
    private let suffix: String

    /// The placeholder the template must hold once, in its host.
    public static let placeholder = "%{tenant}"

    /// Checks `template` and keeps it.
    ///
    /// Cheap enough to call per request (it reads the template's bytes a few times), though a
    /// template is usually made once, with the configuration.
    /// - Throws: ``TenantedError/Code/invalidConfiguration`` saying what is wrong.
    public init(_ template: String) throws(TenantedError) {
        func refuse(_ reason: String) -> TenantedError {
            TenantedError(.invalidConfiguration, "tenant URL template '\(template.prefix(200))': \(reason)")
        }
        let bytes = Array(template.utf8)
        let placeholder = Array(Self.placeholder.utf8)
        let found = Self.occurrences(of: placeholder, in: bytes[...])
        guard found.count == 1, let at = found.first else { throw refuse("needs exactly one \(Self.placeholder)") }
        guard let schemeLength = ["https://", "http://"].lazy.map({ Array($0.utf8) }).first(where: { scheme in
            bytes.count >= scheme.count && zip(bytes, scheme).allSatisfy { Self.lowercased($0) == $1 }
        })?.count else {
            throw refuse("must start with http:// or https://")
        }
        let authorityEnd = bytes[schemeLength...].firstIndex(of: UInt8(ascii: "/")) ?? bytes.endIndex
        let authority = bytes[schemeLength..<authorityEnd]
        guard at >= schemeLength, at + placeholder.count <= authorityEnd else {
            throw refuse("\(Self.placeholder) must be in the host")
        }
        guard !authority.contains(UInt8(ascii: "@")) else { throw refuse("must not carry user info") }
        guard !bytes.contains(UInt8(ascii: "?")), !bytes.contains(UInt8(ascii: "#")) else {
            throw refuse("must not have a query or fragment")
        }
        guard bytes.allSatisfy({ $0 < 0x80 && !Self.isWhitespace($0) }) else { throw refuse("must be ASCII without spaces") }
        // The host with the placeholder standing for a one-letter name, then an optional port.
        let host = Array(authority[..<at]) + [UInt8(ascii: "t")] + Array(authority[(at + placeholder.count)...])
        let colon = host.firstIndex(of: UInt8(ascii: ":"))
        let hostName = host[..<(colon ?? host.endIndex)]
        guard !hostName.isEmpty, hostName.allSatisfy({ Self.isHostByte($0) }) else { throw refuse("has an invalid host") }
        if let colon {
            guard let port = Int(String(decoding: host[(colon + 1)...], as: UTF8.self)), (1...65_535).contains(port) else {
                throw refuse("has an invalid port")
            }
        }
        self.template = template
        var baseEnd = bytes.endIndex
        while baseEnd > at + placeholder.count, bytes[baseEnd - 1] == UInt8(ascii: "/") { baseEnd -= 1 }
        prefix = String(decoding: bytes[..<at], as: UTF8.self)
        suffix = String(decoding: bytes[(at + placeholder.count)..<baseEnd], as: UTF8.self)
    }

    /// Where `needle` starts in `haystack`, overlapping matches included.
    private static func occurrences(of needle: [UInt8], in haystack: ArraySlice<UInt8>) -> [Int] {
        guard haystack.count >= needle.count else { return [] }
        return (haystack.startIndex...(haystack.endIndex - needle.count)).filter { start in
            haystack[start..<(start + needle.count)].elementsEqual(needle)
        }
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
    }

    /// ASCII whitespace as `Character.isWhitespace` sees it: tab, line feed, vertical tab, form feed,
    /// carriage return, space.
    private static func isWhitespace(_ byte: UInt8) -> Bool {
        (0x09...0x0D).contains(byte) || byte == 0x20
    }

    /// A letter, a digit, `.` or `-`.
    private static func isHostByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "."), UInt8(ascii: "-"): true
        default: false
        }
    }

    /// The URL of `path` on `tenant`'s host; `path` is appended as given after one `/`.
    public func url(for tenant: TenantID, path: String = "") -> String {
        let trimmed = path.drop { $0 == "/" }
        return prefix + tenant.rawValue + suffix + (trimmed.isEmpty && path.isEmpty ? "" : "/" + trimmed)
    }

    /// The URL of `path` on the current tenant's host.
    /// - Throws: ``TenantedError/Code/noTenant`` outside every tenant scope.
    public func url(path: String = "") throws(TenantedError) -> String {
        url(for: try Tenant.require(), path: path)
    }

    public var description: String { template }
}
