import HTTPTypes
public import Hummingbird
public import Tenanted

/// Hummingbird's request is what the shared resolvers read.
extension Request: TenantRequestHead {
    /// HTTP/1's `Host`, which Hummingbird carries as the request's authority (HTTP/2's `:authority`).
    public var tenantHostHeader: String? { head.authority }
    public var tenantPath: String { uri.path }
    public func tenantHeader(_ name: String) -> String? {
        HTTPField.Name(name).flatMap { headers[$0] }
    }
}

extension TenantResolver {
    /// A resolver from any closure over Hummingbird's request; return `nil` when the request names no tenant.
    ///
    /// ```swift
    /// TenantMiddleware(tenancy: tenancy, resolver: TenantResolver { $0.uri.queryParameters["tenant"].map(String.init) })
    /// ```
    public init(_ resolve: @escaping @Sendable (Request) -> String?) {
        self.init(resolving: { head in (head as? Request).flatMap(resolve) })
    }
}
