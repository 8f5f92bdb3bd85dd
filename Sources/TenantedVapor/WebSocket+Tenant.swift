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
    /// A request without a tenant (or whose tenant is gone) is closed with a policy-violation code.
    @discardableResult
    public func tenantWebSocket(
        _ path: PathComponent...,
        maxFrameSize: WebSocketMaxFrameSize = .default,
        onUpgrade: @escaping @Sendable (Request, WebSocket) async -> Void
    ) -> Route {
        webSocket(path, maxFrameSize: maxFrameSize) { request, socket in
            do {
                try await request.withTenant { await onUpgrade(request, socket) }
            } catch {
                request.logger.report(error: error)
                try? await socket.close(code: .policyViolation)
            }
        }
    }
}
