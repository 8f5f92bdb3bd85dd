public import HummingbirdWebSocket
import NIOWebSocket

extension WebSocketOutboundWriter {
    /// Sends every message of `messages` (for example a tenant's ``Tenanted/TenantBroadcaster``
    /// subscription) as a text frame until the stream ends — then closes the socket (`1001 going
    /// away`) — or the client closes the socket — then ends the subscription. Frames the client sends
    /// meanwhile are read and dropped: reading `inbound` is how a close from the client is noticed, so
    /// nothing else may iterate it.
    ///
    /// ```swift
    /// router.tenantWebSocket("live", tenancy: tenancy) { inbound, outbound, context in
    ///     guard let updates = try? context.requestContext.subscribe(to: broadcaster) else { return }
    ///     await outbound.relay(updates, inbound: inbound)
    /// }
    /// ```
    public func relay(_ messages: AsyncStream<String>, inbound: WebSocketInboundStream) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await message in messages {
                    do { try await write(.text(message)) } catch { return }
                }
                // The stream ended (the tenant closed): say so to the client.
                try? await close(.goingAway, reason: nil)
            }
            group.addTask {
                do {
                    for try await _ in inbound {}
                } catch {}
            }
            // Whichever ends first ends the other: the subscription or the reading of the socket.
            await group.next()
            group.cancelAll()
        }
    }
}
