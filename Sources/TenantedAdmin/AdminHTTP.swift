/// A request to the admin console, in the terms every framework has; a wing builds it from its own
/// request type (``AdminConsole/respond(to:)``).
public struct AdminRequest: Sendable {
    /// `GET`, `HEAD`, `POST`…
    public var method: String
    /// The request path without the query, e.g. `/admin/tenants/acme`.
    public var path: String
    /// The raw query string (after `?`), if any.
    public var query: String?
    /// The value of the `Cookie` header, if any.
    public var cookie: String?
    /// The value of the `Content-Type` header, if any.
    public var contentType: String?
    /// The request body (forms), at most ``AdminConsole/maximumBodySize`` bytes.
    public var body: [UInt8]
    /// Whether the request came on a tenant's host (or was otherwise resolved to a tenant): the
    /// console then answers 404, so it is never served under a tenant's host.
    public var isTenantRequest: Bool

    public init(
        method: String,
        path: String,
        query: String? = nil,
        cookie: String? = nil,
        contentType: String? = nil,
        body: [UInt8] = [],
        isTenantRequest: Bool
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.cookie = cookie
        self.contentType = contentType
        self.body = body
        self.isTenantRequest = isTenantRequest
    }
}

/// The console's answer; a wing turns it into its own response type.
public struct AdminResponse: Sendable {
    /// The HTTP status code.
    public var status: Int
    /// Headers in order (`Set-Cookie` may repeat).
    public var headers: [(name: String, value: String)]
    /// The body, UTF-8 HTML (empty for redirects and `HEAD`).
    public var body: String

    public init(status: Int, headers: [(name: String, value: String)] = [], body: String = "") {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of header `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// `application/x-www-form-urlencoded` and query-string decoding, and cookie-header parsing.
enum FormDecoding {
    /// The pairs of a form body or query string; a key given twice keeps its first value. Malformed
    /// percent escapes make the pair be skipped.
    static func fields(_ encoded: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in encoded.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = decode(parts[0]), let value = decode(parts.count > 1 ? parts[1] : "") else { continue }
            if fields[key] == nil { fields[key] = value }
        }
        return fields
    }

    /// Percent-decodes, with `+` as a space; `nil` for a malformed escape or invalid UTF-8.
    static func decode(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"): bytes.append(0x20)
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
                bytes.append(high << 4 | low)
            default: bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }

    /// The value of cookie `name` in a `Cookie` header.
    static func cookie(_ name: String, in header: String?) -> String? {
        guard let header else { return nil }
        for item in header.split(separator: ";") {
            let parts = item.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            if parts[0].trimmingSpaces() == name { return String(parts[1].trimmingSpaces()) }
        }
        return nil
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var result = self
        while result.first == " " { result.removeFirst() }
        while result.last == " " { result.removeLast() }
        return result
    }
}

/// HTML escaping for text and attribute values.
enum HTML {
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    /// Percent-encodes a query value (tenant names and prefixes are already URL-safe; this keeps
    /// anything else safe too).
    static func queryValue(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
