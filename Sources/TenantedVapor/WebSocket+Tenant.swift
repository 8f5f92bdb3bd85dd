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
    ///
    /// While the socket is open, its tenant is entered again once a second (a lease: a `stat` on
    /// SQLite, no I/O on PostgreSQL): once the tenant is suspended or destroyed — by this process or
    /// another — the socket is closed, with code 1013 (try again later) for a suspension and 1008
    /// (policy violation) for a tenant that is gone.
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
    // Watches the tenant beside the handler: a handler that runs as long as the socket (a relay)
    // holds its lease all along, and must still see its socket closed on a suspension.
    let watcher = Task { await closeWhenTenantEnds(socket, of: request) }
    do {
        try await request.withTenant { await onUpgrade(request, socket) }
    } catch {
        watcher.cancel()
        request.logger.report(error: error)
        try? await socket.close(code: .policyViolation)
    }
}

/// Enters the request's tenant once a second while `socket` is open, and closes the socket once the
/// tenant is suspended (1013) or gone (1008).
private func closeWhenTenantEnds(_ socket: WebSocket, of request: Request) async {
    while !socket.isClosed {
        try? await Task.sleep(for: .seconds(1))
        if socket.isClosed || Task.isCancelled { return }
        do {
            try await request.withTenant {}
        } catch let error as TenantedError where error.code == .tenantSuspended {
            request.logger.info("closing a websocket: its tenant was suspended")
            try? await socket.close(code: .unknown(1013))
            return
        } catch let error as TenantedError where error.code == .tenantNotFound {
            request.logger.info("closing a websocket: its tenant is gone")
            try? await socket.close(code: .policyViolation)
            return
        } catch {
            // Transient (a pool limit, a lost connection): try again on the next round.
        }
    }
}
