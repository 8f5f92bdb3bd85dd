import Foundation
import Tenanted
import TenantedTestSupport
import Testing

/// End to end against both demos' real HTTP servers, as child processes on a loopback port: one
/// script, two executables (`tenanted-demo` on Vapor, `tenanted-hummingbird-demo` on Hummingbird).
/// Serialized: every case starts servers and commands as processes; fourteen of them at once, beside
/// the rest of the suite on two cores, left requests unanswered for 30 seconds.
@Suite(.serialized) struct DemoHTTPTests {
    func withServer(_ demo: Demo, environment: [String: String] = [:], tenants: [String] = ["acme", "globex"], _ body: (DemoServerProcess, DemoProcess, TemporaryDirectory) async throws -> Void) async throws {
        try await withDemoServer(demo, environment: environment, tenants: tenants, body)
    }

    @Test(arguments: Demo.allCases)
    func everyRouteWorksAndTwoTenantsStayIsolated(demo: Demo) async throws {
        try await withServer(demo) { server, _, _ in try await exerciseEveryRoute(server) }
    }

    /// The same HTTP interface with `TENANTED_STORE=postgres-database`, `postgres-schema` and
    /// `postgres-schema-shared`.
    @Test(
        .enabled(if: ProcessInfo.processInfo.environment["TENANTED_POSTGRES_URL"]?.isEmpty == false, "TENANTED_POSTGRES_URL is not set: PostgreSQL demo tests skipped"),
        arguments: Demo.allCases, ["postgres-database", "postgres-schema", "postgres-schema-shared"]
    )
    func everyRouteWorksOnPostgreSQL(demo: Demo, store: String) async throws {
        try await everyRoute(demo, store: store, url: ProcessInfo.processInfo.environment["TENANTED_POSTGRES_URL"] ?? "")
    }

    /// The same HTTP interface with `TENANTED_STORE=mysql` (a MariaDB or MySQL database per tenant):
    /// Fluent's migrations in `tenanted-demo`, `MySQLMigrator`'s plain SQL in `tenanted-hummingbird-demo`.
    @Test(.enabled(if: DemoStore.mysqlURL != nil, "TENANTED_MYSQL_URL is not set: MySQL demo tests skipped"), arguments: Demo.allCases)
    func everyRouteWorksOnMySQL(demo: Demo) async throws {
        try await withServer(demo, environment: DemoStore.mysql(url: try #require(DemoStore.mysqlURL))) { server, _, _ in
            try await exerciseEveryRoute(server)
        }
    }

    static let pgbouncerTransactionURL = ProcessInfo.processInfo.environment["TENANTED_PGBOUNCER_TRANSACTION_URL"].flatMap { $0.isEmpty ? nil : $0 }

    /// Behind PgBouncer in transaction pooling (`ignore_startup_parameters = search_path`): the
    /// layouts that stay isolated there serve every route.
    @Test(
        .enabled(if: Self.pgbouncerTransactionURL != nil, "TENANTED_PGBOUNCER_TRANSACTION_URL is not set: PgBouncer demo tests skipped"),
        arguments: Demo.allCases, ["postgres-database", "postgres-schema-shared"]
    )
    func everyRouteWorksBehindPgBouncerTransactionPooling(demo: Demo, store: String) async throws {
        try await everyRoute(demo, store: store, url: try #require(Self.pgbouncerTransactionURL))
    }

    /// Behind the same PgBouncer, `postgres-schema` (a pool per tenant, `search_path` at connect)
    /// refuses to create a tenant, with one line naming the remedy, instead of using `public`.
    @Test(
        .enabled(if: Self.pgbouncerTransactionURL != nil, "TENANTED_PGBOUNCER_TRANSACTION_URL is not set: PgBouncer demo tests skipped"),
        arguments: Demo.allCases
    )
    func poolPerTenantSchemaIsRefusedBehindPgBouncer(demo: Demo) async throws {
        let environment = [
            "TENANTED_STORE": "postgres-schema",
            "TENANTED_POSTGRES_URL": try #require(Self.pgbouncerTransactionURL),
            "TENANTED_POSTGRES_PREFIX": "h" + UUID().uuidString.prefix(8).lowercased().filter(\.isHexDigit) + "_",
        ]
        try await withServer(demo, environment: environment, tenants: []) { server, command, _ in
            let created = try await command.run(["tenants", "create", "acme"], environment: environment)
            #expect(created.status == 1, "creating a tenant through PgBouncer with postgres-schema must be refused")
            #expect(created.stderr.contains("error: invalidConfiguration:"), "\(created.stderr)")
            #expect(created.stderr.contains("postgres-schema-shared"), "\(created.stderr)")
            #expect(try await command.run(["tenants", "list"], environment: environment).stdout == "")
            #expect(try await server.request("GET", "/notes", host: "acme.localhost").status == 404)
        }
    }

    private func everyRoute(_ demo: Demo, store: String, url: String) async throws {
        let environment = [
            "TENANTED_STORE": store,
            "TENANTED_POSTGRES_URL": url,
            "TENANTED_POSTGRES_PREFIX": "h" + UUID().uuidString.prefix(8).lowercased().filter(\.isHexDigit) + "_",
        ]
        try await withServer(demo, environment: environment) { server, _, _ in
            try await exerciseEveryRoute(server)
        }
    }

    private func exerciseEveryRoute(_ server: DemoServerProcess) async throws {
        #expect(try await server.request("GET", "/health", host: "localhost").status == 200)

        let created = try await server.request("POST", "/notes", host: "acme.localhost", json: #"{"title": "hello", "body": "from acme"}"#)
        #expect(created.status == 201)
        let note = try #require(created.json as? [String: Any])
        #expect(note["title"] as? String == "hello")
        #expect(note["body"] as? String == "from acme")
        #expect(note["tenant"] as? String == "acme")
        #expect(note["createdAt"] != nil)
        let id = try #require(note["id"] as? String)

        let acme = try await server.request("GET", "/notes", host: "acme.localhost:8080")
        #expect(acme.status == 200)
        #expect((acme.json as? [[String: Any]])?.map { $0["title"] as? String } == ["hello"])
        let globex = try await server.request("GET", "/notes", host: "globex.localhost")
        #expect(globex.status == 200)
        #expect((globex.json as? [Any])?.isEmpty == true)

        #expect(try await server.request("GET", "/notes/\(id)", host: "acme.localhost").status == 200)
        // The same id in the other tenant does not exist.
        #expect(try await server.request("GET", "/notes/\(id)", host: "globex.localhost").status == 404)
        #expect(try await server.request("GET", "/notes/\(UUID())", host: "acme.localhost").status == 404)
        #expect(try await server.request("GET", "/notes/not-a-uuid", host: "acme.localhost").status == 404)

        let patched = try await server.request("PATCH", "/notes/\(id)", host: "acme.localhost", json: #"{"title": "edited"}"#)
        #expect(patched.status == 200)
        #expect((patched.json as? [String: Any])?["title"] as? String == "edited")
        #expect(try await server.request("PATCH", "/notes/\(id)", host: "globex.localhost", json: #"{"title": "x"}"#).status == 404)

        #expect(try await server.request("POST", "/notes", host: "acme.localhost", json: #"{"title": "#).status == 400)
        #expect(try await server.request("POST", "/notes", host: "acme.localhost", json: #"{"body": "no title"}"#).status == 400)

        #expect(try await server.request("DELETE", "/notes/\(id)", host: "globex.localhost").status == 404)
        #expect(try await server.request("DELETE", "/notes/\(id)", host: "acme.localhost").status == 204)
        #expect(try await server.request("GET", "/notes/\(id)", host: "acme.localhost").status == 404)
    }

    @Test func theHostTableIsLargeEnoughToMeanSomething() {
        #expect(HostileInput.hosts.count >= 50)
    }

    /// Issue 7, test 3 (hosts): every hostile `Host` of the table, on every tenanted route, is a 404
    /// that does not echo it (or a 400 / a closed connection when the HTTP parser refuses it first),
    /// and the storage directory (scanned from its parent) is exactly as before.
    @Test(arguments: Demo.allCases)
    func hostileHostsAre404WithoutEchoingTheHostAndTouchNoFile(demo: Demo) async throws {
        // `kilo` makes the KELVIN SIGN look-alike `\u{212A}ilo` a real target.
        try await withServer(demo, tenants: ["acme", "globex", "kilo"]) { server, command, directory in
            #expect(try await server.request("GET", "/notes", host: "kilo.localhost").status == 200, "the control request")
            let before = directory.contents()
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
            #expect(directory.contents() == before, "a hostile Host created or removed a file")
            #expect(try await command.run(["tenants", "list"]).stdout == "acme\nglobex\nkilo\n")
            #expect(try await server.request("GET", "/health", host: "localhost").status == 200)
        }
    }
}
