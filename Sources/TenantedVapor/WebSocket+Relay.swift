import NIOWebSocket
public import Vapor

extension WebSocket {
    /// Sends every message of `messages` (for example a tenant's ``Tenanted/TenantBroadcaster``
    /// subscription) until the stream ends — then closes the socket — or the socket closes — then
    /// ends the subscription.
    ///
    /// ```swift
    /// tenanted.tenantWebSocket("live") { req, ws in
    ///     guard let updates = try? broadcaster.subscribe() else { return }
    ///     await ws.relay(updates)
    /// }
    /// ```
    public func relay(_ messages: AsyncStream<String>) async {
        let sending = Task {
            for await message in messages {
                do { try await send(message) } catch { break }
            }
        }
        onClose.whenComplete { _ in sending.cancel() }
        await sending.value
        if !isClosed { try? await close(code: .goingAway) }
    }
}
