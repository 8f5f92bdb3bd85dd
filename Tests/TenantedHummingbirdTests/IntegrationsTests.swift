import Foundation
import Hummingbird
import HummingbirdTesting
import HummingbirdWebSocket
import Logging
import Tenanted
import TenantedHummingbird
import TenantedSQLite
import TenantedTestSupport
import Testing

/// The app integrations on Hummingbird, over a live server and real SQLite tenants: the tenant view
/// of a persist driver, tenant files, and a broadcaster relayed to websockets.
@Suite("App integrations on Hummingbird")
struct IntegrationsTests {
    /// A tenancy whose destroy removes the tenants' files and closes their live sockets, as an app
    /// configures it.
    struct Setup {
        let directory: TemporaryDirectory
        let tenancy: Tenancy
        let files: TenantFiles
        let live = TenantBroadcaster<String>()

        init() async throws {
            directory = try TemporaryDirectory()
            files = try TenantFiles(root: directory.path + "/tenants/%{tenant}/files")
            var configuration = Tenancy.Configuration()
            files.removeOnDestroy(&configuration.hooks)
            live.closeOnDestroy(&configuration.hooks)
            tenancy = try Tenancy(
                store: try SQLiteStore(configuration: .init(root: directory.path, threadPool: testThreadPool)), configuration: configuration,
                migrator: TestTenancy.schema, logger: .silent
            )
            for name in ["acme", "globex"] { try await tenancy.createTenant(TenantID(name)) }
        }

        func run(_ body: (Setup) async throws -> Void) async throws {
            try await withTeardown { try await body(self) } teardown: { await tenancy.shutdown() }
        }
    }

    /// `/t/…` is tenanted by subdomain of `example.com`; `/untenanted/…` is not.
    func app(_ setup: Setup, persist: MemoryPersistDriver<ContinuousClock>) throws -> some ApplicationProtocol {
        let router = Router(context: BasicTenantRequestContext.self)
        let tenanted = router.group("t").add(middleware: TenantMiddleware(tenancy: setup.tenancy, resolver: try .subdomain(of: "example.com")))
        let files = setup.files, live = setup.live

        tenanted.put("cache/:key") { request, context in
            let value = String(buffer: try await request.body.collect(upTo: 1024))
            try await context.tenantPersist(persist).set(key: try context.parameters.require("key"), value: value, expires: nil)
            return Response(status: .noContent)
        }
        tenanted.get("cache/:key") { _, context in
            try await context.tenantPersist(persist).get(key: try context.parameters.require("key"), as: String.self) ?? "(none)"
        }
        tenanted.put("files/:name") { request, context in
            let size = try await context.tenantFiles(files).write(try context.parameters.require("name"), chunks: request.body.map { Array($0.readableBytesView) })
            return "\(size)"
        }
        tenanted.get("files/:name") { _, context in
            String(decoding: try await context.tenantFiles(files).read(try context.parameters.require("name")), as: UTF8.self)
        }
        tenanted.get("files") { _, context in
            try await context.tenantFiles(files).list().map(\.rawValue).joined(separator: ",")
        }
        tenanted.post("say") { request, context in
            let text = String(buffer: try await request.body.collect(upTo: 1024))
            return "\(try context.publish(text, on: live))"
        }
        tenanted.tenantWebSocket("live", tenancy: setup.tenancy) { inbound, outbound, context in
            guard let updates = try? context.requestContext.subscribe(to: live) else { return }
            await outbound.relay(updates, inbound: inbound)
        }
        // The same accessors on routes without the middleware: the request has no tenant.
        router.get("untenanted/cache") { _, context in
            try await context.tenantPersist(persist).get(key: "k", as: String.self) ?? "(none)"
        }
        router.get("untenanted/files") { _, context in
            try await context.tenantFiles(files).list().map(\.rawValue).joined(separator: ",")
        }
        router.post("untenanted/say") { _, context in "\(try context.publish("x", on: live))" }
        return Application(
            router: router, server: .http1WebSocketUpgrade(webSocketRouter: router), configuration: .loopback, logger: .silent
        )
    }

    @Test("a tenant's persist keys are its own: the same key in two tenants holds two values, scoped in the base driver")
    func persistKeysAreScoped() async throws {
        let persist = MemoryPersistDriver()
        try await Setup().run { setup in
            try await app(setup, persist: persist).test(.live) { client async throws in
                #expect(try await send(client, "PUT", "/t/cache/color", host: "acme.example.com", body: "red").status == 204)
                #expect(try await send(client, "GET", "/t/cache/color", host: "acme.example.com").body == "red")
                #expect(try await send(client, "GET", "/t/cache/color", host: "globex.example.com").body == "(none)")
                #expect(try await send(client, "PUT", "/t/cache/color", host: "globex.example.com", body: "blue").status == 204)
                #expect(try await send(client, "GET", "/t/cache/color", host: "acme.example.com").body == "red")
                #expect(try await send(client, "GET", "/t/cache/color", host: "globex.example.com").body == "blue")
            }
        }
        // Underneath, the keys carry the length-delimited tenant prefix.
        #expect(try await persist.get(key: "t4:acme:color", as: String.self) == "red")
        #expect(try await persist.get(key: "t6:globex:color", as: String.self) == "blue")
        #expect(try await persist.get(key: "color", as: String.self) == nil)
    }

    @Test("keys that a plain concatenation would merge stay apart: tenant a with key b:c, tenant a-b with key c")
    func persistKeysNeverCollide() async throws {
        let persist = MemoryPersistDriver()
        let a = TenantPersistDriver(persist, tenant: try TenantID("a")), ab = TenantPersistDriver(persist, tenant: try TenantID("a-b"))
        try await a.set(key: "b:c", value: "of a", expires: nil)
        try await ab.set(key: "c", value: "of a-b", expires: nil)
        try await ab.set(key: ":c", value: "of a-b too", expires: nil)
        #expect(try await a.get(key: "b:c", as: String.self) == "of a")
        #expect(try await ab.get(key: "c", as: String.self) == "of a-b")
        #expect(try await a.get(key: "-b:c", as: String.self) == nil)
        try await a.create(key: "once", value: 1, expires: nil)
        await #expect(throws: PersistError.duplicate) { try await a.create(key: "once", value: 2, expires: nil) }
        try await ab.create(key: "once", value: 3, expires: nil)   // another tenant's key of the same name
        try await a.remove(key: "once")
        #expect(try await a.get(key: "once", as: Int.self) == nil)
        #expect(try await ab.get(key: "once", as: Int.self) == 3)
    }

    @Test("the current-tenant view follows the task-local tenant and throws noTenant outside every tenant")
    func currentTenantView() async throws {
        let persist = MemoryPersistDriver()
        let view = TenantPersistDriver(persist)
        await expectTenantedError(.noTenant) { try await view.set(key: "k", value: "v", expires: nil) }
        await expectTenantedError(.noTenant) { _ = try await view.get(key: "k", as: String.self) }
        await expectTenantedError(.noTenant) { try await view.remove(key: "k") }
        try await Setup().run { setup in
            try await setup.tenancy.withTenant(TenantID("acme")) { () async throws in
                try await view.set(key: "k", value: "acme's", expires: .seconds(60))
                #expect(try await view.getWithTTL(key: "k", as: String.self)?.object == "acme's")
            }
            try await setup.tenancy.withTenant(TenantID("globex")) { () async throws in
                #expect(try await view.get(key: "k", as: String.self) == nil)
            }
        }
        #expect(try await persist.get(key: "t4:acme:k", as: String.self) == "acme's")
    }

    @Test("tenant files over HTTP: written, read and listed per tenant; bad names are 400; no tenant is 404")
    func files() async throws {
        try await Setup().run { setup in
            try await app(setup, persist: MemoryPersistDriver()).test(.live) { client async throws in
                #expect(try await send(client, "PUT", "/t/files/hello.txt", host: "acme.example.com", body: "hi from acme").body == "12")
                #expect(try await send(client, "GET", "/t/files/hello.txt", host: "acme.example.com").body == "hi from acme")
                #expect(try await send(client, "GET", "/t/files", host: "acme.example.com").body == "hello.txt")
                #expect(try await send(client, "GET", "/t/files", host: "globex.example.com").body == "")
                let elsewhere = try await send(client, "GET", "/t/files/hello.txt", host: "globex.example.com")
                #expect(elsewhere.status == 404 && elsewhere.body == #"{"error":"file not found"}"#)
                for bad in [".hidden", "a%20b", "..", "%2e%2e", "x~y", String(repeating: "a", count: 201)] {
                    let refused = try await send(client, "PUT", "/t/files/\(bad)", host: "acme.example.com", body: "x")
                    #expect(refused.status == 400, "\(bad)")
                    #expect(refused.body == #"{"error":"invalid file name"}"#, "\(bad)")
                }
                let untenanted = try await send(client, "GET", "/untenanted/files", host: "acme.example.com")
                #expect(untenanted.status == 404 && untenanted.body == #"{"error":"tenant not found"}"#, "no middleware, no tenant")
                let noCache = try await send(client, "GET", "/untenanted/cache", host: "acme.example.com")
                #expect(noCache.status == 404, "tenantPersist without a tenant is noTenant")
                #expect(try await send(client, "POST", "/untenanted/say", host: "acme.example.com", body: "x").status == 404)
            }
            #expect(setup.directory.exists("tenants/acme/files/hello.txt"))
            #expect(setup.directory.contents().filter { $0.contains("files/") && !$0.hasSuffix("/") } == ["tenants/acme/files/hello.txt"], "no stray file from a bad name")
            try await setup.tenancy.destroyTenant(TenantID("acme"))
            #expect(!setup.directory.exists("tenants/acme"), "destroying the tenant removed its files")
        }
    }

    @Test("a relayed subscription carries its own tenant's messages only; destroying the tenant closes the socket")
    func relay() async throws {
        try await Setup().run { setup in
            try await app(setup, persist: MemoryPersistDriver()).test(.live) { client async throws in
                let port = try #require(client.port)
                let acme = try TenantID("acme")
                let socket = try await RawWebSocket.connect(port: port, path: "/t/live", host: "acme.example.com")
                try await waitUntil { setup.live.subscriberCount(of: acme) == 1 }
                #expect(try await send(client, "POST", "/t/say", host: "globex.example.com", body: "for globex").body == "0")
                #expect(try await send(client, "POST", "/t/say", host: "acme.example.com", body: "for acme").body == "1")
                #expect(try await socket.nextText() == "for acme", "the first message it gets is acme's own")
                try await setup.tenancy.destroyTenant(acme)
                #expect(try await socket.nextText() == nil, "the socket closes with no further message")
                #expect(setup.live.subscriberCount(of: acme) == 0)
            }
        }
    }

    @Test("a client closing its socket ends the subscription; no tenant or an unknown one is refused before the upgrade")
    func clientCloseAndRefusals() async throws {
        try await Setup().run { setup in
            try await app(setup, persist: MemoryPersistDriver()).test(.live) { client async throws in
                let port = try #require(client.port)
                let globex = try TenantID("globex")
                var socket: RawWebSocket? = try await RawWebSocket.connect(port: port, path: "/t/live", host: "globex.example.com")
                try await waitUntil { setup.live.subscriberCount(of: globex) == 1 }
                _ = socket
                socket = nil   // the client goes away
                try await waitUntil { setup.live.subscriberCount(of: globex) == 0 }
                for host in ["example.com", "initech.example.com"] {
                    let refused = await #expect(throws: RawWebSocket.Refused.self, "\(host)") {
                        _ = try await RawWebSocket.connect(port: port, path: "/t/live", host: host)
                    }
                    // hummingbird-websocket answers every refused upgrade with an empty 400.
                    #expect(refused?.status == 400, "\(host)")
                }
            }
        }
    }
}

/// Waits until `condition` holds, checking every 10 ms; records an issue and throws after 20 seconds
/// (a guard against a hang, not a timing assertion).
func waitUntil(_ condition: () -> Bool, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let deadline = ContinuousClock.now + .seconds(20)
    while !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("the condition never held", sourceLocation: sourceLocation)
            throw CancellationError()
        }
        try await Task.sleep(for: .milliseconds(10))
    }
}
