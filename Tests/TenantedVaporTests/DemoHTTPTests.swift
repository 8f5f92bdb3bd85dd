import Foundation
import Tenanted
@testable import TenantedDemo
import TenantedTestSupport
import Testing

/// End to end against the demo's real HTTP server on a loopback port.
@Suite struct DemoHTTPTests {
    @Test func everyRouteWorksAndTwoTenantsStayIsolated() async throws {
        try await withDemoServer { server in try await exerciseEveryRoute(server) }
    }

    /// The same HTTP interface with `TENANTED_STORE=postgres-database` and `postgres-schema`.
    @Test(
        .enabled(if: ProcessInfo.processInfo.environment["TENANTED_POSTGRES_URL"]?.isEmpty == false, "TENANTED_POSTGRES_URL is not set: PostgreSQL demo tests skipped"),
        arguments: [DemoOptions.StoreKind.postgresDatabase, .postgresSchema]
    )
    func everyRouteWorksOnPostgreSQL(store: DemoOptions.StoreKind) async throws {
        let prefix = "h" + UUID().uuidString.prefix(8).lowercased().filter(\.isHexDigit) + "_"
        try await withDemoServer(options: { options in
            options.store = store
            options.postgresServers = try DemoOptions.postgresServers(ProcessInfo.processInfo.environment.filter { $0.key == "TENANTED_POSTGRES_URL" })
            options.postgresPrefix = prefix
        }) { server in
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

    @Test(arguments: [
        "localhost",                       // no tenant
        "initech.localhost",               // unknown tenant
        "ACME.localhost.evil.com",         // outside the base domain
        "acme.localhost.evil.com",
        "www.localhost",                   // excluded label
        "127.0.0.1",                       // an IP address
        "[::1]:8080",
        "..",
        "..localhost",
        "%2e%2e.localhost",
        "a..b.localhost",
        "acme%00.localhost",
        "-acme.localhost",
        "x.acme.localhost",
        String(repeating: "a", count: 64) + ".localhost",
        String(repeating: "a.", count: 150) + "localhost",
        "",
    ])
    func notesWithoutAValidKnownTenantAre404WithoutEchoingTheHost(host: String) async throws {
        try await withDemoServer { server in
            let before = server.directory.contents()
            for (method, path) in [("GET", "/notes"), ("POST", "/notes"), ("GET", "/notes/\(UUID())")] {
                let response = try await server.request(method, path, host: host, json: method == "POST" ? #"{"title": "x"}"# : nil)
                #expect(response.status == 404, "\(method) \(path) Host: \(host)")
                let body = try #require(response.json as? [String: Any], "body: \(response.body)")
                #expect(body["error"] is String)
                if host.count > 3 { #expect(!response.body.contains(host), "the body must not echo the host") }
            }
            #expect(server.directory.contents() == before, "nothing was created or removed for Host: \(host)")
            #expect(try await server.request("/health", host: host).status == 200)
        }
    }

    @Test func hostHeadersWithControlBytesNeverTouchTheFileSystem() async throws {
        try await withDemoServer { server in
            let before = server.directory.contents()
            for host: [UInt8] in [Array("acme".utf8) + [0] + Array(".localhost".utf8), [0], Array("../..".utf8) + [0]] {
                // The HTTP parser may refuse the request outright (the connection closes unanswered);
                // if it passes it on, the tenant middleware must answer 404.
                do {
                    let response = try await RawHTTP.send(port: server.port, path: "/notes", host: host)
                    #expect(response.status == 400 || response.status == 404, "status \(response.status)")
                } catch let failure as RawHTTP.Failure where failure.description.hasPrefix("no HTTP response") {
                    continue
                }
            }
            #expect(server.directory.contents() == before)
        }
    }
}
