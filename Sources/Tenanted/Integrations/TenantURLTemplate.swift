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
    /// - Throws: ``TenantedError/Code/invalidConfiguration`` saying what is wrong.
    public init(_ template: String) throws(TenantedError) {
        func refuse(_ reason: String) -> TenantedError {
            TenantedError(.invalidConfiguration, "tenant URL template '\(template.prefix(200))': \(reason)")
        }
        let parts = template.split(separator: Self.placeholder, omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw refuse("needs exactly one \(Self.placeholder)") }
        let schemes = ["https://", "http://"]
        guard let scheme = schemes.first(where: { template.lowercased().hasPrefix($0) }) else {
            throw refuse("must start with http:// or https://")
        }
        let afterScheme = template.dropFirst(scheme.count)
        let authority = afterScheme.prefix { $0 != "/" }
        guard authority.contains(Self.placeholder) else { throw refuse("\(Self.placeholder) must be in the host") }
        guard !authority.contains("@") else { throw refuse("must not carry user info") }
        guard !template.contains("?"), !template.contains("#") else { throw refuse("must not have a query or fragment") }
        guard template.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else { throw refuse("must be ASCII without spaces") }
        let host = authority.replacing(Self.placeholder, with: "t").split(separator: ":", maxSplits: 1)
        guard let hostName = host.first, !hostName.isEmpty,
              hostName.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" })
        else { throw refuse("has an invalid host") }
        if host.count == 2 {
            guard let port = Int(host[1]), (1...65_535).contains(port) else { throw refuse("has an invalid port") }
        }
        self.template = template
        var base = template
        while base.hasSuffix("/") { base.removeLast() }
        let baseParts = base.split(separator: Self.placeholder, omittingEmptySubsequences: false)
        prefix = String(baseParts[0])
        suffix = String(baseParts[1])
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
