import Foundation
import TenantedTestSupport
import Testing

/// The app integrations end to end through both demos' real servers, as child processes: note URLs,
/// the tenant cache behind `/stats`, tenant files and the live websocket, on SQLite and on the server
/// stores whose URLs are set; and both demos answering the same HTTP script with the same bytes.
/// Serialized, as ``DemoHTTPTests``: every case starts servers and commands as processes.
@Suite(.serialized) struct DemoIntegrationsTests {
    @Test(arguments: Demo.allCases)
    func integrationsOnSQLite(demo: Demo) async throws {
        try await withDemoServer(demo) { server, command, directory in
            try await exerciseIntegrations(server, command, filesFolder: directory.appending("storage/tenants/globex/files"), environment: [:], demo: demo)
        }
    }

    @Test(
        .enabled(if: DemoStore.postgresURL != nil, "TENANTED_POSTGRES_URL is not set: PostgreSQL integration tests skipped"),
        arguments: Demo.allCases
    )
    func integrationsOnPostgreSQL(demo: Demo) async throws {
        let environment = DemoStore.postgres("postgres-database", url: try #require(DemoStore.postgresURL))
        try await withDemoServer(demo, environment: environment) { server, command, directory in
            try await exerciseIntegrations(server, command, filesFolder: directory.appending("storage/files/globex"), environment: environment, demo: demo)
        }
    }

    @Test(.enabled(if: DemoStore.mysqlURL != nil, "TENANTED_MYSQL_URL is not set: MySQL integration tests skipped"), arguments: Demo.allCases)
    func integrationsOnMySQL(demo: Demo) async throws {
        let environment = DemoStore.mysql(url: try #require(DemoStore.mysqlURL))
        try await withDemoServer(demo, environment: environment) { server, command, directory in
            try await exerciseIntegrations(server, command, filesFolder: directory.appending("storage/files/globex"), environment: environment, demo: demo)
        }
    }

    /// Every integration of the demo against `server`: URLs and stats, the live socket of acme (then
    /// acme destroyed by another process), the files of globex (then globex destroyed likewise).
    private func exerciseIntegrations(
        _ server: DemoServerProcess, _ command: DemoProcess, filesFolder: String, environment: [String: String], demo: Demo
    ) async throws {
        try await urlsAndStats(server)
        try await liveEvents(server, command, environment: environment, demo: demo)
        try await files(server, command, folder: filesFolder, environment: environment)
    }

    /// A note carries its absolute URL on its tenant's host; `/stats` counts the tenant's own notes,
    /// through the tenant cache.
    private func urlsAndStats(_ server: DemoServerProcess) async throws {
        let started = ContinuousClock.now
        #expect(Self.stats(try await server.request("GET", "/stats", host: "acme.localhost")) == "acme 0")
        let created = try await server.request("POST", "/notes", host: "acme.localhost", json: #"{"title": "hello"}"#)
        let note = try #require(created.json as? [String: Any])
        let id = try #require(note["id"] as? String)
        #expect(note["url"] as? String == "http://acme.localhost:\(server.port)/notes/\(id)")
        let listed = try #require(try await server.request("GET", "/notes", host: "acme.localhost").json as? [[String: Any]])
        #expect(listed.first?["url"] as? String == note["url"] as? String)
        let one = try await server.request("GET", "/notes/\(id)", host: "acme.localhost").json as? [String: Any]
        #expect(one?["url"] as? String == note["url"] as? String)

        // The count is cached in acme's cache for 5 seconds: read again soon, it is still 0.
        let cached = Self.stats(try await server.request("GET", "/stats", host: "acme.localhost"))
        if ContinuousClock.now - started < .seconds(4) { #expect(cached == "acme 0", "/stats must come from the tenant cache") }
        #expect(Self.stats(try await server.request("GET", "/stats", host: "globex.localhost")) == "globex 0", "globex's count is its own")
        for host in ["localhost", "nobody.localhost"] {
            let refused = try await server.request("GET", "/stats", host: host)
            #expect(refused.status == 404 && refused.json as? [String: String] == ["error": "tenant not found"], "\(host)")
        }
        #expect(try await server.request("DELETE", "/notes/\(id)", host: "acme.localhost").status == 204)
    }

    /// `{"tenant": T, "notes": N}` as `"T N"`, or `nil` for anything else.
    static func stats(_ response: RawHTTPResponse) -> String? {
        guard response.status == 200, let object = response.json as? [String: Any], object.count == 2,
              let tenant = object["tenant"] as? String, let notes = object["notes"] as? Int else { return nil }
        return "\(tenant) \(notes)"
    }

    /// `/live` streams the own tenant's note events only; no tenant or an unknown one is refused
    /// before the upgrade; destroying the tenant in another process closes the socket.
    private func liveEvents(_ server: DemoServerProcess, _ command: DemoProcess, environment: [String: String], demo: Demo) async throws {
        for host in ["localhost", "nobody.localhost"] {
            let refused = await #expect(throws: RawWebSocket.Refused.self, "\(host)") {
                _ = try await RawWebSocket.connect(port: server.port, path: "/live", host: host)
            }
            #expect(refused?.status == Self.refusedUpgrade(demo), "\(host)")
            #expect(try await server.request("GET", "/live", host: host).status == 404, "a plain GET: \(host)")
        }
        let socket = try await RawWebSocket.connect(port: server.port, path: "/live", host: "acme.localhost")
        // The subscription starts in the upgraded handler, just after the 101: post probe notes
        // until the first one's event arrives.
        let probing = Task {
            var count = 0
            while !Task.isCancelled {
                _ = try? await server.request("POST", "/notes", host: "acme.localhost", json: #"{"title": "probe \#(count)"}"#)
                count += 1
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
        let first = try await socket.nextText()
        probing.cancel()
        await probing.value
        #expect(try Self.event(first)?.title.hasPrefix("probe") == true, "\(first ?? "closed")")

        _ = try await server.request("POST", "/notes", host: "globex.localhost", json: #"{"title": "not for acme"}"#)
        let created = try #require(try await server.request("POST", "/notes", host: "acme.localhost", json: #"{"title": "for acme"}"#).json as? [String: Any])
        let id = try #require(created["id"] as? String)
        _ = try await server.request("PATCH", "/notes/\(id)", host: "acme.localhost", json: #"{"title": "edited"}"#)
        _ = try await server.request("DELETE", "/notes/\(id)", host: "acme.localhost")
        var events: [String] = []
        while events.count < 3, let text = try await socket.nextText() {
            let event = try #require(try Self.event(text), "\(text)")
            #expect(event.tenant == "acme", "only acme's events: \(text)")
            if event.title.hasPrefix("probe") { continue }
            #expect(event.id == id && event.url == "http://acme.localhost:\(server.port)/notes/\(id)", "\(text)")
            events.append(event.event)
        }
        #expect(events == ["created", "updated", "deleted"])

        // Destroying acme from another process closes its socket (any events still queued first).
        let destroyed = try await command.run(["tenants", "destroy", "acme"], environment: environment)
        #expect(destroyed.status == 0, "\(destroyed.stderr)")
        while let text = try await socket.nextText() {
            #expect(try Self.event(text)?.title.hasPrefix("probe") == true, "no event after the destroy but queued probes: \(text)")
        }
    }

    /// The status of a refused websocket upgrade: the demo's 404 on Vapor; on Hummingbird,
    /// hummingbird-websocket 2.8 answers every refused upgrade with an empty 400 (the route's own 404
    /// is not sent), so the refusal is the same but the status is not.
    static func refusedUpgrade(_ demo: Demo) -> Int {
        demo == .vapor ? 404 : 400
    }

    /// One `/live` message: `{"event": E, "note": {…}}`.
    static func event(_ text: String?) throws -> (event: String, id: String, title: String, tenant: String, url: String)? {
        guard let text, let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
              object.count == 2, let event = object["event"] as? String, let note = object["note"] as? [String: Any],
              let id = note["id"] as? String, let title = note["title"] as? String, let tenant = note["tenant"] as? String,
              let url = note["url"] as? String
        else { return nil }
        return (event, id, title, tenant, url)
    }

    /// Tenant files: put, get, list, delete; another tenant never sees them; bad names are 400 and
    /// leave nothing; destroying the tenant (from another process) removes them.
    private func files(_ server: DemoServerProcess, _ command: DemoProcess, folder: String, environment: [String: String]) async throws {
        let put = try await server.request("PUT", "/files/hello.txt", host: "globex.localhost", body: "hi from globex")
        #expect(put.status == 201)
        let info = try #require(put.json as? [String: Any])
        #expect(info.count == 2 && info["name"] as? String == "hello.txt" && info["size"] as? Int == 14, "\(put.body)")
        let got = try await server.request("GET", "/files/hello.txt", host: "globex.localhost")
        #expect(got.status == 200 && got.body == "hi from globex")
        #expect(got.header("Content-Type") == "application/octet-stream")
        #expect(try await server.request("GET", "/files", host: "globex.localhost").json as? [String] == ["hello.txt"])
        let elsewhere = try await server.request("GET", "/files/hello.txt", host: "acme.localhost")
        #expect(elsewhere.status == 404, "acme was destroyed: its host is unknown")
        #expect(try await server.request("GET", "/files", host: "nobody.localhost").status == 404)
        let absent = try await server.request("GET", "/files/nothing.txt", host: "globex.localhost")
        #expect(absent.status == 404 && absent.json as? [String: String] == ["error": "file not found"])

        for bad in ["..%2Fescape", ".hidden", "a%20b", "%2e%2e", "x~y", String(repeating: "a", count: 201)] {
            let refused = try await server.request("PUT", "/files/\(bad)", host: "globex.localhost", body: "x")
            #expect(refused.status == 400, "\(bad)")
            #expect(refused.json as? [String: String] == ["error": "invalid file name"], "\(bad)")
        }
        #expect(try await server.request("GET", "/files", host: "globex.localhost").json as? [String] == ["hello.txt"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["hello.txt"], "no stray file from a bad name")

        #expect(try await server.request("DELETE", "/files/hello.txt", host: "globex.localhost").status == 204)
        #expect(try await server.request("GET", "/files/hello.txt", host: "globex.localhost").status == 404)
        #expect(try await server.request("DELETE", "/files/hello.txt", host: "globex.localhost").status == 404)

        _ = try await server.request("PUT", "/files/kept.txt", host: "globex.localhost", body: "kept")
        #expect(FileManager.default.fileExists(atPath: folder + "/kept.txt"))
        let destroyed = try await command.run(["tenants", "destroy", "globex"], environment: environment)
        #expect(destroyed.status == 0, "\(destroyed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder), "destroying the tenant removed its files")
    }

    /// One HTTP script, both executables, each on a storage of its own: every answer has the same
    /// status, `Content-Type` and body bytes, once the note ids, the port and the times (which differ
    /// by nature) are replaced by placeholders.
    @Test func bothDemosAnswerTheSameHTTPScriptIdentically() async throws {
        let script: [(method: String, path: String, host: String, json: String?, body: String?)] = [
            ("GET", "/health", "localhost", nil, nil),
            ("GET", "/notes", "acme.localhost", nil, nil),
            ("GET", "/stats", "acme.localhost", nil, nil),
            ("POST", "/notes", "acme.localhost", #"{"title": "hello", "body": "from acme"}"#, nil),
            ("GET", "/notes", "acme.localhost", nil, nil),
            ("GET", "/notes/{id}", "acme.localhost", nil, nil),
            ("GET", "/notes/{id}", "globex.localhost", nil, nil),
            ("PATCH", "/notes/{id}", "acme.localhost", #"{"title": "edited"}"#, nil),
            ("PATCH", "/notes/{id}", "acme.localhost", #"{"title": ""}"#, nil),
            ("POST", "/notes", "acme.localhost", #"{"title": "#, nil),
            ("POST", "/notes", "acme.localhost", #"{"body": "no title"}"#, nil),
            ("GET", "/stats", "globex.localhost", nil, nil),
            ("GET", "/stats", "localhost", nil, nil),
            ("GET", "/stats", "nobody.localhost", nil, nil),
            ("GET", "/files", "acme.localhost", nil, nil),
            ("PUT", "/files/hello.txt", "acme.localhost", nil, "hi from acme"),
            ("PUT", "/files/hello.txt", "acme.localhost", nil, "hi again"),
            ("GET", "/files/hello.txt", "acme.localhost", nil, nil),
            ("GET", "/files/hello.txt", "globex.localhost", nil, nil),
            ("GET", "/files", "acme.localhost", nil, nil),
            ("PUT", "/files/.hidden", "acme.localhost", nil, "x"),
            ("PUT", "/files/..%2Fescape", "acme.localhost", nil, "x"),
            ("GET", "/files/nothing.txt", "acme.localhost", nil, nil),
            ("DELETE", "/files/hello.txt", "acme.localhost", nil, nil),
            ("DELETE", "/files/hello.txt", "acme.localhost", nil, nil),
            ("GET", "/files", "localhost", nil, nil),
            ("DELETE", "/notes/{id}", "acme.localhost", nil, nil),
            ("DELETE", "/notes/{id}", "acme.localhost", nil, nil),
            ("GET", "/notes", "nobody.localhost", nil, nil),
        ]
        var transcripts: [Demo: [String]] = [:]
        for demo in Demo.allCases {
            try await withDemoServer(demo) { server, _, _ in
                var id = "none"
                var lines: [String] = []
                for step in script {
                    let path = step.path.replacingOccurrences(of: "{id}", with: id)
                    let response = try await server.request(step.method, path, host: step.host, json: step.json, body: step.body)
                    if step.method == "POST", let created = (response.json as? [String: Any])?["id"] as? String { id = created }
                    let body = Self.normalized(response.body, port: server.port)
                    let headers = ["Content-Type", "Retry-After"].compactMap { name in response.header(name).map { "\(name): \($0)" } }
                    lines.append("\(step.method) \(step.path) \(step.host) → \(response.status)\n\(headers.joined(separator: "\n"))\n\(body)")
                }
                transcripts[demo] = lines
            }
        }
        let vapor = try #require(transcripts[.vapor]), hummingbird = try #require(transcripts[.hummingbird])
        for (one, other) in zip(vapor, hummingbird) {
            #expect(one == other, "the demos answered differently:\n\(one)\n----\n\(other)")
        }
    }

    /// `body` with every UUID as `<id>`, every ISO 8601 time as `<time>` and `:port/` as `:<port>/`.
    static func normalized(_ body: String, port: Int) -> String {
        body.replacing(/[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}/, with: "<id>")
            .replacing(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/, with: "<time>")
            .replacingOccurrences(of: ":\(port)/", with: ":<port>/")
    }
}
