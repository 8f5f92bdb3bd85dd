import Fluent
import FluentKit
import Foundation
import NIOCore
import Tenanted
@testable import TenantedDemo
import TenantedVapor
import TenantedTestSupport
import Synchronization
import Testing
import Vapor

/// A classic middleware that calls `next` from a future callback, as `SessionsMiddleware` does
/// when a session cookie is present: task-locals do not survive it.
struct FutureHopMiddleware: Middleware {
    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        request.eventLoop.submit {}.flatMap { next.respond(to: request) }
    }
}

/// An async middleware that only passes the request on.
struct PassThroughMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        try await next.respond(to: request)
    }
}

struct PlacementReport: Content {
    let current: String
    let requestTenant: String
    let notes: Int
}

/// The task the resolver last ran in (the middleware's), for a handler to compare with its own.
private let resolvingTask = Mutex<Int?>(nil)

private func currentTask() -> Int? { withUnsafeCurrentTask { $0?.hashValue } }

/// The documented placement (inside future-based middleware) and the failure mode of the wrong one.
@Suite struct MiddlewarePlacementTests {
    static func report(_ req: Request) async throws -> PlacementReport {
        PlacementReport(
            current: Tenant.current?.description ?? "none",
            requestTenant: req.tenant?.description ?? "none",
            notes: try await Note.query(on: req.db).count()
        )
    }

    @Test("an async handler directly inside the middleware runs in the middleware's own task; one behind more middleware has its own and still sees the tenant")
    func anAsyncHandlerRunsInTheMiddlewaresTask() async throws {
        try await withDemoServer(configure: { app in
            let subdomain = try TenantResolver.subdomain(of: "localhost")
            let probing = TenantResolver { head in
                resolvingTask.withLock { $0 = currentTask() }
                return subdomain.candidate(for: head)
            }
            let tenanted = app.grouped(TenantMiddleware(resolver: probing))
            let probe = { @Sendable (req: Request) async throws -> [String: String] in
                let sameTask = currentTask() != nil && currentTask() == resolvingTask.withLock { $0 }
                let notes = try await Note.query(on: req.db).count()
                return ["current": Tenant.current?.description ?? "none", "sameTask": "\(sameTask)", "notes": "\(notes)"]
            }
            tenanted.get("direct", use: probe)
            tenanted.grouped(PassThroughMiddleware()).get("behind", use: probe)
        }) { server in
            _ = try await server.request("POST", "/notes", host: "acme.localhost", json: #"{"title": "one"}"#)
            let direct = try #require(try await server.request("/direct", host: "acme.localhost").json as? [String: String])
            #expect(direct == ["current": "acme", "sameTask": "true", "notes": "1"])
            let behind = try #require(try await server.request("/behind", host: "globex.localhost").json as? [String: String])
            #expect(behind == ["current": "globex", "sameTask": "false", "notes": "0"], "another middleware between: the handler has a task of its own")
            #expect(try await server.request("/direct", host: "nobody.localhost").status == 404, "an unknown tenant is still a 404")
        }
    }

    @Test func insideAFutureHopTheTaskLocalIsLostButQueriesStillRouteByTheLogger() async throws {
        try await withDemoServer(configure: { app in
            let resolver = try TenantResolver.subdomain(of: "localhost")
            // Right: the future-based middleware first, the tenant middleware inside it.
            app.grouped(FutureHopMiddleware()).grouped(TenantMiddleware(resolver: resolver)).get("right") { try await Self.report($0) }
            // Wrong: the tenant middleware outside, the future hop between it and the handler.
            app.grouped(TenantMiddleware(resolver: resolver)).grouped(FutureHopMiddleware()).get("wrong") { try await Self.report($0) }
        }) { server in
            _ = try await server.request("POST", "/notes", host: "acme.localhost", json: #"{"title": "one"}"#)
            _ = try await server.request("POST", "/notes", host: "acme.localhost", json: #"{"title": "two"}"#)

            let right = try #require(try await server.request("/right", host: "acme.localhost").json as? [String: Any])
            #expect(right["current"] as? String == "acme")
            #expect(right["notes"] as? Int == 2)

            // The failure mode: no task-local tenant in the handler...
            let wrong = try #require(try await server.request("/wrong", host: "acme.localhost").json as? [String: Any])
            #expect(wrong["current"] as? String == "none")
            // ...but req.tenant and req.db (through req.logger's tenant metadata) still name acme.
            #expect(wrong["requestTenant"] as? String == "acme")
            #expect(wrong["notes"] as? Int == 2)
            let globex = try #require(try await server.request("/wrong", host: "globex.localhost").json as? [String: Any])
            #expect(globex["notes"] as? Int == 0)
        }
    }
}
