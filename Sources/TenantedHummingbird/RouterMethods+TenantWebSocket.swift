public import Hummingbird
public import HummingbirdWebSocket
public import Tenanted

extension RouterMethods {
    /// A WebSocket route whose handler runs in the upgrading request's tenant.
    ///
    /// The upgrade request passes through ``TenantMiddleware`` like any other (an unknown tenant is a
    /// 404 before any upgrade), but the handler runs after the upgrade, in a task of the connection
    /// that the request's task-local tenant does not reach. This re-enters the tenant (switching
    /// prohibited) for the handler's whole life, so ``TenantRequestContext/tenantPool(as:)`` on
    /// `context.requestContext` works in it.
    ///
    /// ```swift
    /// tenanted.tenantWebSocket("live", tenancy: tenancy) { inbound, outbound, context in
    ///     let pool = try context.requestContext.tenantPool(as: SQLitePool.self)
    ///     for try await frame in inbound { … }
    /// }
    /// ```
    ///
    /// A request without a tenant is not upgraded: it is answered 404 (`noTenant`).
    @discardableResult
    public func tenantWebSocket(
        _ path: RouterPath = "",
        tenancy: Tenancy,
        onUpgrade handler: @escaping WebSocketDataHandler<WebSocketRouterContext<Context>>
    ) -> Self where Context: WebSocketRequestContext & TenantRequestContext, Self: _HB_SendableMetatype {
        ws(path, shouldUpgrade: { _, context in
            _ = try context.requireTenant()
            return .upgrade([:])
        }, onUpgrade: { inbound, outbound, context in
            let tenant = try context.requestContext.requireTenant()
            try await tenancy.withTenant(tenant, prohibitingSwitches: true, isolation: nil) {
                try await handler(inbound, outbound, context)
            }
        })
    }
}
