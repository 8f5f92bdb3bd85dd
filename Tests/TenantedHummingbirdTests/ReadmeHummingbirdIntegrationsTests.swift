// This file mirrors the README's "App integrations on Hummingbird" (and the same block in the
// TenantedHummingbird DocC article) in process: every line of its Swift block is here, in order, and
// runs as written; the last test fails when a line is missing. A line that must differ carries its
// README form in a trailing `// README: `...`` comment.

import Foundation
import Hummingbird
import HummingbirdTesting
import HummingbirdWebSocket
import Tenanted
import TenantedHummingbird
import TenantedSQLite
import TenantedTestSupport
import Testing

@Suite("README: app integrations on Hummingbird")
struct ReadmeHummingbirdIntegrationsTests {
    @Test("the section runs as written: per-tenant persist keys, files, and live messages relayed to the tenant's socket only")
    func section() async throws {
        let directory = try TemporaryDirectory()
        let root = directory.path
        // README: block 1.
        let files = try TenantFiles(root: root + "/tenants/%{tenant}/files")
        let live = TenantBroadcaster<String>()
        let persist = MemoryPersistDriver()                                    // or Valkey, PostgreSQL…
        var configuration = Tenancy.Configuration()
        files.removeOnDestroy(&configuration.hooks)
        live.closeOnDestroy(&configuration.hooks)
        let tenancy = try Tenancy(store: try SQLiteStore(configuration: .init(root: root)), configuration: configuration)

        let router = Router(context: BasicTenantRequestContext.self)
        let tenanted = router.group().add(middleware: TenantMiddleware(tenancy: tenancy, resolver: try .subdomain(of: "example.com")))
        tenanted.get("visits") { _, context in
            let cache = try context.tenantPersist(persist)                      // keys scoped to the tenant
            let visits = (try await cache.get(key: "visits", as: Int.self) ?? 0) + 1
            try await cache.set(key: "visits", value: visits, expires: .seconds(60))
            return "\(visits)"
        }
        tenanted.put("files/:name") { request, context in
            let name = try context.parameters.require("name")
            let size = try await context.tenantFiles(files).write(name, chunks: request.body.map { Array($0.readableBytesView) })
            try context.publish("stored \(name), \(size) bytes", on: live)     // this tenant's sockets only
            return Response(status: .created)
        }
        tenanted.tenantWebSocket("live", tenancy: tenancy) { inbound, outbound, context in
            guard let updates = try? context.requestContext.subscribe(to: live) else { return }
            await outbound.relay(updates, inbound: inbound)                     // until either side ends
        }
        let app = Application(router: router, server: .http1WebSocketUpgrade(webSocketRouter: router), configuration: .loopback, services: [tenancy, persist])  // README: `let app = Application(router: router, server: .http1WebSocketUpgrade(webSocketRouter: router), services: [tenancy, persist])`
        // README: end of block 1.

        for name in ["acme", "globex"] { try await tenancy.createTenant(TenantID(name)) }
        try await app.test(.live) { client async throws in
            let port = try #require(client.port)
            #expect(try await send(client, "GET", "/visits", host: "acme.example.com").body == "1")
            #expect(try await send(client, "GET", "/visits", host: "acme.example.com").body == "2")
            #expect(try await send(client, "GET", "/visits", host: "globex.example.com").body == "1", "globex counts its own visits")
            #expect(try await send(client, "GET", "/visits", host: "example.com").status == 404, "no tenant")

            let socket = try await RawWebSocket.connect(port: port, path: "/live", host: "acme.example.com")
            let acme = try TenantID("acme")
            try await waitUntil { live.subscriberCount(of: acme) == 1 }
            #expect(try await send(client, "PUT", "/files/logo.png", host: "globex.example.com", body: "png").status == 201)
            #expect(try await send(client, "PUT", "/files/..", host: "acme.example.com", body: "x").status == 400)
            #expect(try await send(client, "PUT", "/files/logo.png", host: "acme.example.com", body: "acme png").status == 201)
            #expect(try await socket.nextText() == "stored logo.png, 8 bytes", "acme's socket hears acme's upload only")
            try await tenancy.destroyTenant(TenantID("acme"))
            #expect(try await socket.nextText() == nil)
        }
        #expect(directory.exists("tenants/globex/files/logo.png"))
        #expect(!directory.exists("tenants/acme"), "acme's files went with it")
    }

    @Test("every line of the README section's Swift block, and of the DocC article's copy, appears in this file, in order")
    func readmeMatches() throws {
        let here = URL(fileURLWithPath: #filePath)
        let package = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let mirror = try String(contentsOf: here, encoding: .utf8)
        let readme = try String(contentsOf: package.appendingPathComponent("README.md"), encoding: .utf8)
        let section = DocumentMirror.section("## App integrations on Hummingbird", of: readme)
        #expect(DocumentMirror.swiftBlocks(in: section).count == 1, "the section has 1 Swift block; update this file when that changes")
        #expect(DocumentMirror.missingLines(of: section, in: mirror, marker: "README").isEmpty, "README lines not mirrored here")
        let article = try String(
            contentsOf: package.appendingPathComponent("Sources/TenantedHummingbird/Documentation.docc/TenantedHummingbird.md"), encoding: .utf8
        )
        let docc = DocumentMirror.section("### App integrations", of: article)
        #expect(DocumentMirror.swiftBlocks(in: docc) == DocumentMirror.swiftBlocks(in: section), "the DocC article shows the README's compiled block")
    }
}
