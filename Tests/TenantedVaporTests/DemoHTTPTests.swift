import Foundation
import Tenanted
import TenantedTestSupport
import Testing

/// End to end against the demo's real HTTP server on a loopback port.
@Suite struct DemoHTTPTests {
    @Test func everyRouteWorksAndTwoTenantsStayIsolated() async throws {
        try await withDemoServer { server in try await exerciseEveryRoute(server) }
    }

    /// The same HTTP interface with `TENANTED_STORE=postgres-database`, `postgres-schema` and
    /// `postgres-schema-shared`.
    @Test(
        .enabled(if: ProcessInfo.processInfo.environment["TENANTED_POSTGRES_URL"]?.isEmpty == false, "TENANTED_POSTGRES_URL is not set: PostgreSQL demo tests skipped"),
        arguments: ["postgres-database", "postgres-schema", "postgres-schema-shared"]
    )
    func everyRouteWorksOnPostgreSQL(store: String) async throws {
        try await everyRoute(store: store, url: ProcessInfo.processInfo.environment["TENANTED_POSTGRES_URL"] ?? "")
    }

    static let mysqlURL = ProcessInfo.processInfo.environment["TENANTED_MYSQL_URL"].flatMap { $0.isEmpty ? nil : $0 }

    /// The same HTTP interface with `TENANTED_STORE=mysql` (a MariaDB or MySQL database per tenant).
    @Test(.enabled(if: Self.mysqlURL != nil, "TENANTED_MYSQL_URL is not set: MySQL demo tests skipped"))
    func everyRouteWorksOnMySQL() async throws {
        let environment = [
            "TENANTED_STORE": "mysql",
            "TENANTED_MYSQL_URL": try #require(Self.mysqlURL),
            "TENANTED_MYSQL_PREFIX": "h" + UUID().uuidString.prefix(8).lowercased().filter(\.isHexDigit) + "_",
        ]
        try await withDemoServer(environment: environment) { server in
            try await exerciseEveryRoute(server)
            for name in ["acme", "globex"] { try await server.tenancy.destroyTenant(TenantID(name)) }
        }
    }

    static let pgbouncerTransactionURL = ProcessInfo.processInfo.environment["TENANTED_PGBOUNCER_TRANSACTION_URL"].flatMap { $0.isEmpty ? nil : $0 }

    /// Behind PgBouncer in transaction pooling (`ignore_startup_parameters = search_path`): the
    /// layouts that stay isolated there serve every route.
    @Test(
        .enabled(if: Self.pgbouncerTransactionURL != nil, "TENANTED_PGBOUNCER_TRANSACTION_URL is not set: PgBouncer demo tests skipped"),
        arguments: ["postgres-database", "postgres-schema-shared"]
    )
    func everyRouteWorksBehindPgBouncerTransactionPooling(store: String) async throws {
        try await everyRoute(store: store, url: try #require(Self.pgbouncerTransactionURL))
    }

    /// Behind the same PgBouncer, `postgres-schema` (a pool per tenant, `search_path` at connect)
    /// refuses to create a tenant, with one line naming the remedy, instead of using `public`.
    @Test(.enabled(if: Self.pgbouncerTransactionURL != nil, "TENANTED_PGBOUNCER_TRANSACTION_URL is not set: PgBouncer demo tests skipped"))
    func poolPerTenantSchemaIsRefusedBehindPgBouncer() async throws {
        let server = try await DemoServer.start(environment: [
            "TENANTED_STORE": "postgres-schema",
            "TENANTED_POSTGRES_URL": try #require(Self.pgbouncerTransactionURL),
            "TENANTED_POSTGRES_PREFIX": "h" + UUID().uuidString.prefix(8).lowercased().filter(\.isHexDigit) + "_",
        ], configure: { _ in })
        do {
            try await server.tenancy.createTenant(TenantID("acme"))
            Issue.record("creating a tenant through PgBouncer with postgres-schema must be refused")
        } catch let error as TenantedError {
            #expect(error.code == .invalidConfiguration, "\(error)")
            #expect(error.description.contains("postgres-schema-shared"), "\(error)")
        }
        #expect(try await server.tenancy.tenants().isEmpty)
        #expect(try await server.request("/notes", host: "acme.localhost").status == 404)
        await server.stop()
    }

    private func everyRoute(store: String, url: String) async throws {
        let environment = [
            "TENANTED_STORE": store,
            "TENANTED_POSTGRES_URL": url,
            "TENANTED_POSTGRES_PREFIX": "h" + UUID().uuidString.prefix(8).lowercased().filter(\.isHexDigit) + "_",
        ]
        try await withDemoServer(environment: environment) { server in
            try await exerciseEveryRoute(server)
            for name in ["acme", "globex"] { try await server.tenancy.destroyTenant(TenantID(name)) }
        }
    }

    private func exerciseEveryRoute(_ server: DemoServer) async throws {
        #expect(try await server.request("/health", host: "localhost").status == 200)

        let created = try await server.request("POST", "/notes", host: "acme.localhost", json: #"{"title": "hello", "body": "from acme"}"#)
        #expect(created.status == 201)
        let note = try #require(created.json as? [String: Any])
        #expect(note["title"] as? String == "hello")
        #expect(note["body"] as? String == "from acme")
        #expect(note["tenant"] as? String == "acme")
        #expect(note["createdAt"] != nil)
        let id = try #require(note["id"] as? String)

        let acme = try await server.request("/notes", host: "acme.localhost:8080")
        #expect(acme.status == 200)
        #expect((acme.json as? [[String: Any]])?.map { $0["title"] as? String } == ["hello"])
        let globex = try await server.request("/notes", host: "globex.localhost")
        #expect(globex.status == 200)
        #expect((globex.json as? [Any])?.isEmpty == true)

        #expect(try await server.request("/notes/\(id)", host: "acme.localhost").status == 200)
        // The same id in the other tenant does not exist.
        #expect(try await server.request("/notes/\(id)", host: "globex.localhost").status == 404)
        #expect(try await server.request("/notes/\(UUID())", host: "acme.localhost").status == 404)
        #expect(try await server.request("/notes/not-a-uuid", host: "acme.localhost").status == 404)

        let patched = try await server.request("PATCH", "/notes/\(id)", host: "acme.localhost", json: #"{"title": "edited"}"#)
        #expect(patched.status == 200)
        #expect((patched.json as? [String: Any])?["title"] as? String == "edited")
        #expect(try await server.request("PATCH", "/notes/\(id)", host: "globex.localhost", json: #"{"title": "x"}"#).status == 404)

        #expect(try await server.request("POST", "/notes", host: "acme.localhost", json: #"{"title": "#).status == 400)
        #expect(try await server.request("POST", "/notes", host: "acme.localhost", json: #"{"body": "no title"}"#).status == 400)

        #expect(try await server.request("DELETE", "/notes/\(id)", host: "globex.localhost").status == 404)
        #expect(try await server.request("DELETE", "/notes/\(id)", host: "acme.localhost").status == 204)
        #expect(try await server.request("/notes/\(id)", host: "acme.localhost").status == 404)
    }

    @Test func theHostTableIsLargeEnoughToMeanSomething() {
        #expect(HostileInput.hosts.count >= 50)
    }

    /// Issue 7, test 3 (hosts): every hostile `Host` of the table, on every tenanted route, is a 404
    /// that does not echo it (or a 400 / a closed connection when the HTTP parser refuses it first),
    /// and the storage directory (scanned from its parent) is exactly as before.
    @Test func hostileHostsAre404WithoutEchoingTheHostAndTouchNoFile() async throws {
        try await withDemoServer { server in
            // `kilo` makes the KELVIN SIGN look-alike `\u{212A}ilo` a real target.
            try await server.tenancy.createTenant(TenantID("kilo"), ifNotExists: false)
            #expect(try await server.request("/notes", host: "kilo.localhost").status == 200, "the control request")
            let before = server.directory.contents()
            for host in HostileInput.hosts {
                let shown = String(decoding: host, as: UTF8.self).debugDescription
                for (method, path) in [("GET", "/notes"), ("POST", "/notes"), ("GET", "/notes/\(UUID())")] {
                    let response: RawHTTPResponse
                    do {
                        response = try await RawHTTP.send(
                            port: server.port, method: method, path: path, host: host,
                            headers: method == "POST" ? [("Content-Type", "application/json")] : [],
                            body: method == "POST" ? #"{"title": "x"}"# : nil
                        )
                    } catch let failure as RawHTTP.Failure where failure.description.hasPrefix("no HTTP response") {
                        continue  // the HTTP parser closed the connection: refused before any route
                    }
                    if response.status == 400 { continue }  // refused by the HTTP parser
                    #expect(response.status == 404, "\(method) \(path) Host: \(shown)")
                    let body = response.json as? [String: Any]
                    #expect(body?["error"] is String, "body: \(response.body)")
                    let text = String(decoding: host, as: UTF8.self)
                    if text.count > 3 { #expect(!response.body.contains(text), "the body must not echo Host: \(shown)") }
                }
            }
            #expect(server.directory.contents() == before, "a hostile Host created or removed a file")
            #expect(try await server.tenancy.tenants().map(\.rawValue) == ["acme", "globex", "kilo"])
            #expect(try await server.request("/health", host: "localhost").status == 200)
        }
    }
}
