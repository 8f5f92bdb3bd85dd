public import Hummingbird
public import HummingbirdWebSocket
import Logging
import NIOWebSocket
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
    /// A request without a tenant, or with an unknown one, is not upgraded: no handler runs. (A
    /// plain `GET` of the route is answered 404; an upgrade request gets hummingbird-websocket's
    /// answer to every refused upgrade, an empty 400 that closes the connection.)
    ///
    /// While the socket is open, its tenant is entered again once a second (a lease: a `stat` on
    /// SQLite, no I/O on PostgreSQL): once the tenant is suspended or destroyed — by this process or
    /// another — the socket is closed, with code 1013 (try again later) for a suspension and 1008
    /// (policy violation) for a tenant that is gone, as TenantedVapor's `tenantWebSocket` does. A
    /// handler that relays a subscription (``HummingbirdWebSocket/WebSocketOutboundWriter/relay(_:inbound:)``)
    /// then ends with it.
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
            try await withThrowingTaskGroup(of: Void.self) { group in
                // Watches from the start (outside the handler's scope, so each round takes a fresh
                // lease), so a handler that stays for the socket's life ends too.
                group.addTask { await closeWhenTenantEnds(outbound, tenant: tenant, tenancy: tenancy, logger: context.logger) }
                try await tenancy.withTenant(tenant, prohibitingSwitches: true, isolation: nil) {
                    try await handler(inbound, outbound, context)
                }
                group.cancelAll()
            }
        })
    }
}

/// Enters `tenant` once a second until cancelled, and closes the socket once the tenant is suspended
/// (1013) or gone (1008).
private func closeWhenTenantEnds(_ outbound: WebSocketOutboundWriter, tenant: TenantID, tenancy: Tenancy, logger: Logger) async {
    while !Task.isCancelled {
        do {
            try await Task.sleep(for: .seconds(1))
        } catch {
            return  // the handler ended
        }
        do {
            try await tenancy.withTenant(tenant) {}
        } catch let error as TenantedError where error.code == .tenantSuspended {
            logger.info("closing a websocket: its tenant was suspended")
            try? await outbound.close(.unknown(1013), reason: nil)
            return
        } catch let error as TenantedError where error.code == .tenantNotFound {
            logger.info("closing a websocket: its tenant is gone")
            try? await outbound.close(.policyViolation, reason: nil)
            return
        } catch {
            // Transient (a pool limit, a lost connection): try again on the next round.
        }
    }
}
