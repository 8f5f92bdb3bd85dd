import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import HummingbirdWebSocket
import HummingbirdWSClient
import HummingbirdWSTesting
import Logging
import SQLiteNIO
import Tenanted
import TenantedHummingbird
import TenantedSQLite
import TenantedTestSupport
import Testing

/// `tenantWebSocket` over a live server: the handler runs in the upgrading request's tenant.
@Suite("WebSockets in the request's tenant")
struct TenantWebSocketTests {
    func app(_ tenancy: Tenancy) -> some ApplicationProtocol {
        let router = Router(context: BasicTenantRequestContext.self)
        let live = router.group("live").add(middleware: TenantMiddleware(tenancy: tenancy, resolver: .header("X-Tenant")))
        live.tenantWebSocket(tenancy: tenancy) { inbound, outbound, context in
            // After the upgrade, in a task of the connection: the tenant and its pool are here.
            let names = try await titles(context.requestContext)
            try await outbound.write(.text("\(Tenant.current?.description ?? "-"): \(names.joined(separator: ","))"))
            for try await frame in inbound.messages(maxSize: 1 << 16) {
                guard case .text(let title) = frame else { continue }
                try await context.requestContext.tenantPool(as: SQLitePool.self).write {
                    _ = try await $0.query("INSERT INTO notes (title) VALUES (?)", [.text(title)])
                }
                try await outbound.write(.text("stored"))
            }
        }
        return Application(router: router, server: .http1WebSocketUpgrade(webSocketRouter: router), configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: .silent)
    }

    @Test("the handler sees the tenant and writes into its database, not another's")
    func handlerRunsInTheTenant() async throws {
        let setup = try await TestTenancy()
        try await setup.run { tenancy in
            try await app(tenancy).test(.live) { client in
                let greeting = Locked<[String]>([])
                try await client.ws("/live", configuration: .init(additionalHeaders: [HTTPField.Name("X-Tenant")!: "acme"])) { inbound, outbound, _ in
                    var messages = inbound.messages(maxSize: 1 << 16).makeAsyncIterator()
                    if case .text(let text) = try await messages.next() { greeting.append(text) }
                    try await outbound.write(.text("over the socket"))
                    if case .text(let text) = try await messages.next() { greeting.append(text) }
                }
                #expect(greeting.value == ["acme: note of acme", "stored"])
            }
            let acme = try await tenancy.withTenant(TenantID("acme")) {
                try await tenancy.currentPool(as: SQLitePool.self).read { try await $0.query("SELECT title FROM notes ORDER BY title").compactMap { $0.column("title")?.string } }
            }
            let globex = try await tenancy.withTenant(TenantID("globex")) {
                try await tenancy.currentPool(as: SQLitePool.self).read { try await $0.query("SELECT title FROM notes ORDER BY title").compactMap { $0.column("title")?.string } }
            }
            #expect(acme == ["note of acme", "over the socket"])
            #expect(globex == ["note of globex"])
        }
    }

    @Test("an upgrade without a tenant, or to an unknown one, is refused before any handler runs")
    func noTenantIsNotUpgraded() async throws {
        let setup = try await TestTenancy()
        try await setup.run { tenancy in
            try await app(tenancy).test(.live) { client in
                for headers: HTTPFields in [[:], [HTTPField.Name("X-Tenant")!: "initech"]] {
                    await #expect(throws: (any Error).self, "\(headers)") {
                        try await client.ws("/live", configuration: .init(additionalHeaders: headers)) { _, _, _ in
                            Issue.record("the upgrade must be refused")
                        }
                    }
                }
                let plain = try await client.execute(uri: "/live", method: .get, headers: [HTTPField.Name("X-Tenant")!: "initech"])
                #expect(plain.status == .notFound)
            }
        }
    }
}
