public import Tenanted
public import Vapor

/// Vapor's request is what the shared resolvers read.
extension Request: TenantRequestHead {
    public var tenantHostHeader: String? { headers.first(name: .host) }
    public var tenantPath: String { url.path }
    public func tenantHeader(_ name: String) -> String? { headers.first(name: name) }
}

extension TenantResolver {
    /// A resolver from any closure over Vapor's request; return `nil` when the request names no tenant.
    ///
    /// ```swift
    /// TenantMiddleware(resolver: TenantResolver { $0.query[String.self, at: "tenant"] })
    /// ```
    public init(_ resolve: @escaping @Sendable (Request) -> String?) {
        self.init(resolving: { head in (head as? Request).flatMap(resolve) })
    }
}
