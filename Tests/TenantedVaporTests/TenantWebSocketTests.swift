import Fluent
import FluentKit
import Foundation
import NIOCore
import Tenanted
@testable import TenantedDemo
import TenantedTestSupport
import TenantedVapor
import Testing
import Vapor

/// A websocket handler and its frame callbacks run in the upgrading request's tenant.
@Suite struct TenantWebSocketTests {
    @Test func theHandlerAndFrameCallbacksUseTheRequestsTenant() async throws {
        try await withDemoServer(configure: { app in
            app.grouped(TenantMiddleware(resolver: try .subdomain(of: "localhost"))).tenantWebSocket("live") { req, ws in
                let count = (try? await Note.query(on: req.db).count()) ?? -1
                // Register for frames before greeting, so the client's answer cannot arrive first.
                ws.onText { ws, text in
                    let reply = (try? await req.withTenant {
                        try await Note(title: text, body: "").create(on: req.db)
                        return "\(Tenant.current?.description ?? "none") \(try await Note.query(on: req.db).count())"
                    }) ?? "failed"
                    try? await ws.send(reply)
                }
                try? await ws.send("hello \(Tenant.current?.description ?? "none") \(count)")
            }
        }) { server in
            _ = try await server.request("POST", "/notes", host: "globex.localhost", json: #"{"title": "g"}"#)
            let received = Locked<[String]>([])
            let done = Gate()
            let eventLoop = server.app.eventLoopGroup.any()
            try await WebSocket.connect(
                to: "ws://127.0.0.1:\(server.port)/live", headers: ["Host": "globex.localhost"], on: eventLoop
            ) { ws in
                ws.onText { ws, text in
                    let count = received.withLock { $0.append(text); return $0.count }
                    if count == 1 { ws.send("from the socket") }
                    if count == 2 {
                        done.open()
                        _ = ws.close()
                    }
                }
            }.get()
            #expect(await done.wait(atMost: .seconds(60)))
            #expect(received.value == ["hello globex 1", "globex 2"])
            // The note went to globex, not acme.
            let acme = try await server.request("/notes", host: "acme.localhost")
            #expect((acme.json as? [Any])?.isEmpty == true)
        }
    }
}
