import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import SQLiteNIO
import Tenanted
import TenantedHummingbird
import TenantedSQLite
import TenantedTestSupport
import Testing

/// TenantMiddleware on a real Hummingbird router over real SQLite tenants.
@Suite("TenantMiddleware on Hummingbird")
struct TenantMiddlewareTests {
    /// A router whose `/notes` group is tenanted by subdomain of `example.com`.
    func router(_ tenancy: Tenancy) throws -> Router<BasicTenantRequestContext> {
        let router = Router(context: BasicTenantRequestContext.self)
        router.get("health") { _, context in context.tenant == nil ? "untenanted" : "tenanted" }
        let notes = router.group("notes").add(middleware: TenantMiddleware(tenancy: tenancy, resolver: try .subdomain(of: "example.com")))
        notes.get { _, context in
            let names = try await titles(context)
            return "\(context.tenant?.description ?? "-") \(Tenant.current?.description ?? "-") \(names.joined(separator: ","))"
        }
        notes.get("switch") { _, _ in
            do {
                try await tenancy.withTenant(TenantID("globex")) {}
                return "switched"
            } catch let error as TenantedError {
                return "\(error.code)"
            }
        }
        notes.get("optional") { _, context in context.tenant?.description ?? "none" }
        notes.get("wrong-type") { _, context in
            _ = try context.tenantPool(as: String.self)
            return "unreachable"
        }
        return router
    }

    @Test("a tenant's host runs the handler in that tenant, with its pool from the context")
    func resolvesTheTenantAndLendsItsPool() async throws {
        let setup = try await TestTenancy()
        try await setup.run { tenancy in
            let app = Application(router: try router(tenancy), configuration: .loopback)
            try await app.test(.live) { client in
                let acme = try await send(client, "GET", "/notes", host: "acme.example.com")
                #expect(acme.status == 200)
                #expect(acme.body == "acme acme note of acme")
                let globex = try await send(client, "GET", "/notes", host: "GLOBEX.example.com:8080")
                #expect(globex.body == "globex globex note of globex")
            }
        }
    }

    @Test("an unknown or invalid tenant is a 404 with a short JSON body that does not echo the host")
    func unknownAndInvalidTenantsAre404() async throws {
        let setup = try await TestTenancy()
        try await setup.run { tenancy in
            let app = Application(router: try router(tenancy), configuration: .loopback)
            try await app.test(.live) { client in
                for host in ["initech.example.com", "a_b-c.example.com", "-x.example.com", "xn--80ak6aa92e.example.com"] {
                    let response = try await send(client, "GET", "/notes", host: host)
                    #expect(response.status == 404, "\(host)")
                    #expect(response.body == #"{"error":"tenant not found"}"#, "\(host)")
                }
                #expect(try await tenancy.tenants().map(\.rawValue) == ["acme", "globex"], "no request created a tenant")
            }
        }
    }

    @Test("a request that names no tenant continues untenanted and tenant access fails closed with 404")
    func noTenantContinuesUntenanted() async throws {
        let setup = try await TestTenancy()
        try await setup.run { tenancy in
            let app = Application(router: try router(tenancy), configuration: .loopback)
            try await app.test(.live) { client in
                let optional = try await send(client, "GET", "/notes/optional", host: "example.com")
                #expect(optional.status == 200)
                #expect(optional.body == "none")
                let notes = try await send(client, "GET", "/notes", host: "example.com")
                #expect(notes.status == 404)
                #expect(notes.body == #"{"error":"tenant not found"}"#)
                let health = try await send(client, "GET", "/health", host: "acme.example.com")
                #expect(health.body == "untenanted", "routes outside the group are not tenanted")
            }
        }
    }

    @Test("inside a request, entering another tenant is refused with switchProhibited")
    func switchingIsProhibited() async throws {
        let setup = try await TestTenancy()
        try await setup.run { tenancy in
            let app = Application(router: try router(tenancy), configuration: .loopback)
            try await app.test(.live) { client in
                let response = try await send(client, "GET", "/notes/switch", host: "acme.example.com")
                #expect(response.body == "switchProhibited")
            }
        }
    }

    @Test("asking the context for a pool of another type is misuse, a 500, not a crash")
    func wrongPoolTypeFailsClosed() async throws {
        let setup = try await TestTenancy()
        try await setup.run { tenancy in
            let app = Application(router: try router(tenancy), configuration: .loopback)
            try await app.test(.live) { client in
                let response = try await send(client, "GET", "/notes/wrong-type", host: "acme.example.com")
                #expect(response.status == 500)
                #expect(response.body == #"{"error":"Internal Server Error"}"#, "the body names no type and no tenant")
            }
        }
    }

    @Test("a tenant whose schema is behind is a 503 whose body says nothing more")
    func pendingMigrationsAre503() async throws {
        let setup = try await TestTenancy()
        try await setup.run { _ in }
        let newer = try SQLiteMigrator(TestTenancy.schema.migrations + [.init(name: "tags", statements: ["CREATE TABLE tags (name TEXT)"])])
        let tenancy = try Tenancy(store: try SQLiteStore(configuration: .init(root: setup.directory.path)), migrator: newer, logger: .silent)
        try await withTeardown {
            let app = Application(router: try router(tenancy), configuration: .loopback)
            try await app.test(.live) { client in
                let response = try await send(client, "GET", "/notes", host: "acme.example.com")
                #expect(response.status == 503)
                #expect(response.body == #"{"error":"Service Unavailable"}"#)
            }
        } teardown: {
            await tenancy.shutdown()
        }
    }
}

/// The DocC placement rule as a test: Hummingbird applies a middleware only to routes added after it.
@Suite("TenantMiddleware placement")
struct MiddlewarePlacementTests {
    @Test("a route added before the middleware runs untenanted and fails closed with 404, whatever the host says")
    func routeAddedBeforeTheMiddlewareFailsClosed() async throws {
        let setup = try await TestTenancy()
        try await setup.run { tenancy in
            let router = Router(context: BasicTenantRequestContext.self)
            let group = router.group("notes")
            group.get("early") { _, context in try await titles(context).joined(separator: ",") }  // wrong: before the middleware
            group.add(middleware: TenantMiddleware(tenancy: tenancy, resolver: .firstHostLabel()))
            group.get("late") { _, context in try await titles(context).joined(separator: ",") }
            let app = Application(router: router, configuration: .loopback)
            try await app.test(.live) { client in
                let early = try await send(client, "GET", "/notes/early", host: "acme.example.com")
                #expect(early.status == 404, "no tenant reached the early route: it must not fall back to anything")
                let late = try await send(client, "GET", "/notes/late", host: "acme.example.com")
                #expect(late.status == 200)
                #expect(late.body == "note of acme")
            }
        }
    }
}

/// The request logger's `tenant` tag: copied into the logger's metadata only when its handler does
/// not already add it from the task-local (`Logger.MetadataProvider.tenanted`).
@Suite("TenantMiddleware and the request logger")
struct MiddlewareLoggerTests {
    /// A handler that keeps metadata and a metadata provider, and prints nothing.
    struct ProvidingLogHandler: LogHandler {
        var metadata: Logger.Metadata = [:]
        var metadataProvider: Logger.MetadataProvider?
        var logLevel: Logger.Level = .critical

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {}
    }

    /// `GET /notes` answers `<the logger's own tenant tag> <what its provider adds>`.
    func answer(provider: Logger.MetadataProvider?) async throws -> String {
        let setup = try await TestTenancy()
        var body = ""
        try await setup.run { tenancy in
            let router = Router(context: BasicTenantRequestContext.self)
            router.group("notes").add(middleware: TenantMiddleware(tenancy: tenancy, resolver: try .subdomain(of: "example.com")))
                .get { _, context in
                    "\(context.logger[metadataKey: Logger.tenantMetadataKey]?.description ?? "none") "
                        + "\(context.logger.metadataProvider?.get()[Logger.tenantMetadataKey]?.description ?? "none")"
                }
            let logger = Logger(label: "tenanted-tests") { _ in ProvidingLogHandler(metadataProvider: provider) }
            let app = Application(router: router, configuration: .loopback, logger: logger)
            body = try await app.test(.live) { client in
                let response = try await send(client, "GET", "/notes", host: "acme.example.com")
                #expect(response.status == 200)
                return response.body
            }
        }
        return body
    }

    @Test("with the tenanted metadata provider the tenant comes from the scope and the logger is not copied")
    func providerTagsWithoutCopying() async throws {
        #expect(try await answer(provider: .tenanted) == "none acme")
    }

    @Test("without it, or with a provider that does not add the tenant, the logger's metadata is tagged")
    func otherwiseTheLoggerIsTagged() async throws {
        #expect(try await answer(provider: nil) == "acme none")
        #expect(try await answer(provider: Logger.MetadataProvider { ["other": "value"] }) == "acme none")
    }
}
