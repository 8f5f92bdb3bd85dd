import NIOWebSocket
import Tenanted
public import Vapor

extension RoutesBuilder {
    /// A websocket route whose handler runs in the upgrading request's tenant.
    ///
    /// Vapor runs a websocket handler in a task of its own, which the request's task-local tenant
    /// does not reach; this re-enters it, so `req.db` is the tenant's database in the handler. Frame
    /// callbacks run later, on the event loop: re-enter there with ``Vapor/Request/withTenant(_:)``.
    ///
    /// ```swift
    /// tenanted.tenantWebSocket("live") { req, ws in
    ///     let count = try? await Note.query(on: req.db).count()     // the request's tenant
    ///     ws.onText { ws, text in
    ///         _ = try? await req.withTenant { try await Note(title: text).create(on: req.db) }
    ///     }
    /// }
    /// ```
    ///
    /// A request without a tenant is refused before the upgrade, with a 404 (as an unknown tenant is
    /// by ``TenantMiddleware``); one whose tenant is gone by the time the handler runs is closed
    /// with a policy-violation code.
    @discardableResult
    public func tenantWebSocket(
        _ path: PathComponent...,
        maxFrameSize: WebSocketMaxFrameSize = .default,
        onUpgrade: @escaping @Sendable (Request, WebSocket) async -> Void
    ) -> Route {
        // Refused in the route, before any upgrade: a throwing `shouldUpgrade` leaves the client
        // without an answer.
        on(.GET, path) { request -> Response in
            guard request.tenant != nil else { throw TenantNotFound() }
            return request.webSocket(maxFrameSize: maxFrameSize) { request, socket in
                await runInTenant(request, socket, onUpgrade)
            }
        }
    }
}

/// Runs a websocket handler in the upgrading request's tenant; closes the socket when the tenant is
/// gone by then.
private func runInTenant(
    _ request: Request,
    _ socket: WebSocket,
    _ onUpgrade: @escaping @Sendable (Request, WebSocket) async -> Void
) async {
    do {
        try await request.withTenant { await onUpgrade(request, socket) }
    } catch {
        request.logger.report(error: error)
        try? await socket.close(code: .policyViolation)
    }
}
