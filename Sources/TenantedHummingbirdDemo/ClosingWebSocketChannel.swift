import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1

/// hummingbird-websocket's HTTP/1 channel with a WebSocket upgrade, closed on an HTTP parser error
/// and once it is handled.
///
/// With an upgrade configured, a request the HTTP parser rejects while the upgrade is still being
/// negotiated (a NUL, bare CR or LF, or DEL in the `Host` header) is dropped by hummingbird-websocket
/// 2.8.1 without closing the connection (its pipeline turns NIO's error handling off): the client
/// waits for an answer that never comes, and the connection stays open. Closing the channel on the
/// parser's error is what Hummingbird's plain HTTP/1 channel does for such a request.
struct ClosingWebSocketChannel: ServerChildChannel {
    let base: HTTP1WebSocketUpgradeChannel

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<HTTP1WebSocketUpgradeChannel.Value> {
        base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            try channel.pipeline.syncOperations.addHandler(CloseOnParserError(), position: .last)
            return value
        }
    }

    func handle(value: HTTP1WebSocketUpgradeChannel.Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
        value.channel.close(promise: nil)
    }
}

extension HTTPServerBuilder {
    /// ``HTTPServerBuilder/http1WebSocketUpgrade(webSocketRouter:configuration:)`` whose connections
    /// are closed once handled (see ``ClosingWebSocketChannel``).
    static func closingHTTP1WebSocketUpgrade<WSResponderBuilder: HTTPResponderBuilder & _HB_SendableMetatype>(
        webSocketRouter: WSResponderBuilder
    ) -> HTTPServerBuilder where WSResponderBuilder.Responder.Context: WebSocketRequestContext {
        let webSocketResponder = webSocketRouter.buildResponder()
        return .init { responder in
            ClosingWebSocketChannel(base: HTTP1WebSocketUpgradeChannel(responder: responder, webSocketResponder: webSocketResponder, configuration: .init()))
        }
    }
}

/// Closes the connection when the HTTP parser fails (the request is malformed; nothing was routed).
final class CloseOnParserError: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = NIOAny

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is HTTPParserError {
            context.close(promise: nil)
            return
        }
        context.fireErrorCaught(error)
    }
}
