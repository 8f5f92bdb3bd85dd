/// What a ``TenantResolver`` reads of an HTTP request, whatever the web framework: each framework's
/// request adopts it (TenantedVapor's `Request`, TenantedHummingbird's request), so the resolvers are
/// written once.
public protocol TenantRequestHead {
    /// The raw `Host` header, or `nil` when there is none.
    var tenantHostHeader: String? { get }
    /// The URL's path, `/` for the root.
    var tenantPath: String { get }
    /// The first value of the header `name` (matched without regard to case), or `nil`.
    func tenantHeader(_ name: String) -> String?
}

/// Finds the tenant a request names: a subdomain, a host, a header, a path segment, or any closure.
///
/// A resolver returns the **candidate name** — `nil` when the request names no tenant (it then
/// runs untenanted). ``TenantMiddleware`` validates the candidate with `TenantID`, so a hostile value
/// (`..`, `%2e%2e`, a NUL, 300 characters) is a 404 before it reaches a path or a database.
///
/// Host-based resolvers read the `Host` header, drop the port and a trailing dot, lowercase it
/// (host names are case-insensitive), and never resolve an IP address (`127.0.0.1`, `[::1]`), a
/// host longer than 253 characters, or a host with any non-ASCII character.
public struct TenantResolver: Sendable {
    private let resolve: @Sendable (any TenantRequestHead) -> String?

    /// A resolver from any closure over the framework-neutral request head; return `nil` when the
    /// request names no tenant. (Each web framework's module adds one over its own request type.)
    public init(resolving resolve: @escaping @Sendable (any TenantRequestHead) -> String?) {
        self.resolve = resolve
    }

    /// The candidate tenant name of `request`, or `nil`.
    public func candidate(for request: some TenantRequestHead) -> String? {
        resolve(request)
    }

    /// The label right under `baseDomain`: `acme.example.com` → `acme` for base `example.com`.
    ///
    /// The base domain itself, a host outside it (`acme.example.com.evil.net`), more than one label
    /// under it (`www.acme.example.com`) and the `excluded` labels resolve to no tenant.
    ///
    /// - Parameters:
    ///   - baseDomain: the domain whose subdomains are tenants, e.g. `"example.com"` or `"localhost"`.
    ///   - excluded: labels that are not tenants. Default: `www`.
    /// - Throws: ``Tenanted/TenantedError/Code/invalidConfiguration`` when `baseDomain` is not a host
    ///   name (empty, an IP address, with a port, a path or other characters than letters, digits,
    ///   `-` and `.`).
    public static func subdomain(of baseDomain: String, excluding excluded: Set<String> = ["www"]) throws(TenantedError) -> Self {
        guard ASCIIAllowlist.isHostName(baseDomain), let base = HostName.normalized(baseDomain) else {
            throw TenantedError(.invalidConfiguration, "the base domain must be a host name such as example.com or localhost")
        }
        let suffix = Array(("." + base).utf8)
        return Self(resolving: { request in
            guard let host = HostName.of(request) else { return nil }
            let bytes = host.utf8
            guard bytes.count > suffix.count, bytes.suffix(suffix.count).elementsEqual(suffix) else { return nil }
            let label = bytes.prefix(bytes.count - suffix.count)
            guard !label.contains(UInt8(ascii: ".")) else { return nil }
            let name = String(decoding: label, as: UTF8.self)
            return excluded.contains(name) ? nil : name
        })
    }

    /// The first label of any host: `acme.example.com` → `acme`. A single-label host (`localhost`)
    /// and the `excluded` labels resolve to no tenant.
    public static func firstHostLabel(excluding excluded: Set<String> = ["www"]) -> Self {
        Self(resolving: { request in
            guard let host = HostName.of(request), let dot = host.firstIndex(of: ".") else { return nil }
            let label = String(host[..<dot])
            return label.isEmpty || excluded.contains(label) ? nil : label
        })
    }

    /// The whole host is the tenant's name (for hosts like `acme` on an internal network).
    public static let host = Self(resolving: { request in HostName.of(request) })

    /// Each host maps to a tenant (custom domains: `notes.acme.com` → `acme`); other hosts resolve to
    /// no tenant. Keys are matched after the same normalization as the request's host.
    public static func hostMap(_ map: [String: TenantID]) -> Self {
        let normalized = Dictionary(map.map { (HostName.normalized($0.key) ?? $0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        return Self(resolving: { request in
            HostName.of(request).flatMap { normalized[$0] }.map(\.description)
        })
    }

    /// The value of a request header, `X-Tenant` by default (for APIs and internal services).
    public static func header(_ name: String = "X-Tenant") -> Self {
        Self(resolving: { request in
            request.tenantHeader(name).flatMap { $0.isEmpty ? nil : $0 }
        })
    }

    /// The first path segment: `/acme/notes` → `acme`. Routes then include the segment
    /// (`app.grouped(":tenant")`). The root path resolves to no tenant.
    public static let pathPrefix = Self(resolving: { request in
        request.tenantPath.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: true).first.map(String.init)
    })
}

/// Host header parsing shared by the host-based resolvers.
package enum HostName {
    /// The request's host, normalized; `nil` when absent, an IP address, or unusable.
    static func of(_ request: some TenantRequestHead) -> String? {
        request.tenantHostHeader.flatMap(normalized)
    }

    /// Lowercased, without port and trailing dot; `nil` for IP addresses, empty or overlong hosts.
    ///
    /// Works on the UTF-8 bytes: it runs for every request of a host-resolved tenant.
    package static func normalized(_ raw: String) -> String? {
        // Host names are ASCII (international names travel as punycode). Refuse anything else before
        // lowercasing: Unicode lowercasing maps some non-ASCII characters onto ASCII letters (KELVIN
        // SIGN U+212A becomes "k"), so a look-alike host would otherwise reach a real tenant.
        var host = Array(raw.utf8)
        guard host.allSatisfy({ $0 < 0x80 }) else { return nil }
        if host.first == UInt8(ascii: "[") { return nil }  // an IPv6 literal, with or without a port
        if let colon = host.lastIndex(of: UInt8(ascii: ":")) {
            let port = host[(colon + 1)...]
            guard !port.isEmpty, port.allSatisfy(isDigit) else { return nil }
            host.removeSubrange(colon...)
        }
        if host.last == UInt8(ascii: ".") { host.removeLast() }
        guard !host.isEmpty, host.count <= 253 else { return nil }
        if isIPv4(host) { return nil }
        for index in host.indices where (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(host[index]) {
            host[index] += 32
        }
        return String(decoding: host, as: UTF8.self)
    }

    private static func isIPv4(_ host: [UInt8]) -> Bool {
        let parts = host.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy(isDigit)
        }
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}
