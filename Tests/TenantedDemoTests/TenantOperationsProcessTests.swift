import Foundation
import Tenanted
import TenantedTestSupport
import Testing

/// Issue 18 with real processes of the built demo, real HTTP and a real websocket, for every store:
/// suspend / resume seen by a running server, backup under a concurrent writer, restore with and
/// without `--replace`, bad backups, clone isolation, and SIGKILL during restores and template creates.
@Suite("Tenant operations between processes", .serialized, .enabled(if: DemoProcess.isBuilt, "build tenanted-demo first (scripts/test does)"))
struct TenantOperationsProcessTests {
    typealias Deployment = CrossProcessTests.Deployment

    /// The stores that implement backup, restore and clone: every store of ``CrossProcessTests/stores``
    /// but MySQL, which refuses them (`invalidConfiguration`, "MySQLStore cannot back up tenants")
    /// until it implements them. Suspend and resume run on every store.
    static let stores = CrossProcessTests.stores.filter { $0 != "mysql" }

    /// The `error:` lines of a command's standard error (which also carries the libraries' log lines).
    static func errorLines(_ stderr: String) -> [String] {
        stderr.split(separator: "\n").map(String.init).filter { $0.hasPrefix("error:") }
    }

    @Test("suspend and resume from another process: 503 with Retry-After and JSON at once, websocket closed, other tenants served", arguments: Demo.allCases, CrossProcessTests.stores)
    func suspendSeenByRunningServer(demo: Demo, store: String) async throws {
        let deployment = try CrossProcessTests.Deployment(demo: demo, store: store)
        for name in ["acme", "globex"] {
            let created = try await deployment.tenants("create", name)
            try #require(created.status == 0, "\(created.stderr)")
        }
        let server = try await deployment.startServer()
        var stopped = false
        defer { if !stopped { Task { await server.stop() } } }
        #expect(try await server.post("before", to: "acme") == 201)

        // A live websocket of acme: it must close once acme is suspended.
        // (`/live` relays acme's note events; the upgrade completing is the acceptance.)
        let closed = Gate()
        let socket = try await RawWebSocket.connect(port: server.port, path: "/live", host: "acme.localhost")
        Task {
            while (try? await socket.nextText()) != nil {}
            closed.open()
        }

        let suspended = try await deployment.tenants("suspend", "acme", "--reason", "unpaid-invoice")
        try #require(suspended.status == 0, "\(suspended.stderr)")
        #expect(suspended.stdout == "suspended acme\n")

        var refused = try await server.request("GET", "/notes", host: "acme.localhost")
        if store != "sqlite" {
            // PostgreSQL processes learn of the suspension from the catalog's notification, which
            // arrives asynchronously (about a millisecond; more on a loaded machine): wait for it,
            // bounded, as CrossProcessCoherenceTests does for moves. SQLite's check is synchronous.
            let clock = ContinuousClock()
            let started = clock.now
            while refused.status == 200, clock.now - started < .seconds(30) {
                try await Task.sleep(for: .milliseconds(5))
                refused = try await server.request("GET", "/notes", host: "acme.localhost")
            }
            print("suspend (\(store)): the server refused acme \(clock.now - started) after the command returned")
        }
        #expect(refused.status == 503, "the first request after the suspend is refused")
        #expect(refused.header("Retry-After") == "60")
        #expect((refused.json as? [String: String])?["error"] == "tenant suspended for maintenance")
        #expect(!refused.body.contains("unpaid-invoice"), "the reason is for operators only")
        #expect(try await server.post("during", to: "acme") == 503, "no writes")
        #expect(try await server.titles(of: "globex").status == 200, "other tenants are served")
        #expect(await closed.wait(atMost: .seconds(60)), "the tenant's websocket was closed")

        let status = try await deployment.tenants("status", "--json")
        try #require(status.status == 0, "\(status.stderr)")
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [[String: Any]])
        let suspendedByTenant = Dictionary(uniqueKeysWithValues: entries.map { ($0["tenant"] as? String ?? "", $0["suspended"] as? Bool) })
        #expect(suspendedByTenant == ["acme": true, "globex": false])
        #expect(entries.allSatisfy { $0["applied"] != nil && $0["pending"] != nil }, "the other fields stay")
        let list = try await deployment.tenants("list", "--json")
        #expect(list.stdout == "[\"acme\",\"globex\"]\n", "list --json stays an array of names")

        let backup = try await deployment.tenants("backup", "acme", "--to", deployment.directory.appending("suspended.backup"))
        if store == "mysql" {
            // MySQL does not back up yet: refused in one line, and the suspension is untouched.
            #expect(backup.status == 1 && Self.errorLines(backup.stderr).first?.hasPrefix("error: invalidConfiguration:") == true, "\(backup.stderr)")
        } else {
            #expect(backup.status == 0, "a suspended tenant can be backed up: \(backup.stderr)")
        }

        let resumed = try await deployment.tenants("resume", "acme")
        try #require(resumed.status == 0, "\(resumed.stderr)")
        var titles = try await server.titles(of: "acme")
        if store != "sqlite" {
            let clock = ContinuousClock()
            let started = clock.now
            while titles.status == 503, clock.now - started < .seconds(30) {
                try await Task.sleep(for: .milliseconds(5))
                titles = try await server.titles(of: "acme")
            }
        }
        #expect(titles == (200, ["before"]), "served again")

        let unknown = try await deployment.tenants("suspend", "nobody")
        #expect(unknown.status == 1)
        #expect(Self.errorLines(unknown.stderr).first?.hasPrefix("error: tenantNotFound:") == true, "\(unknown.stderr)")

        #expect(await server.stop() != nil)
        stopped = true
        await deployment.cleanUp()
    }

    @Test("a backup taken under a concurrent writer restores a prefix of the acknowledged writes", arguments: Self.stores)
    func backupUnderWriter(store: String) async throws {
        let deployment = try CrossProcessTests.Deployment(demo: .vapor, store: store)
        let created = try await deployment.tenants("create", "acme")
        try #require(created.status == 0, "\(created.stderr)")
        let server = try await deployment.startServer()
        var stopped = false
        defer { if !stopped { Task { await server.stop() } } }

        let acknowledged = Locked([String]())
        let stop = Locked(false)
        let writer = Task {
            var count = 0
            while !stop.value {
                count += 1
                let title = String(format: "w%06d", count)
                if (try? await server.post(title, to: "acme")) == 201 { acknowledged.append(title) }
            }
        }
        while acknowledged.value.count < 20 { try await Task.sleep(for: .milliseconds(10)) }
        let before = acknowledged.value
        let file = deployment.directory.appending("acme.backup")
        let backup = try await deployment.tenants("backup", "acme", "--to", file)
        let afterCount = acknowledged.value.count
        while acknowledged.value.count < afterCount + 10 { try await Task.sleep(for: .milliseconds(10)) }
        stop.withLock { $0 = true }
        await writer.value
        try #require(backup.status == 0, "\(backup.stderr)")
        #expect(backup.stdout == "backed up acme\n")

        let restored = try await deployment.tenants("restore", "copy", "--from", file)
        try #require(restored.status == 0, "\(restored.stderr)")
        let (status, titles) = try await server.titles(of: "copy")
        #expect(status == 200)
        let all = acknowledged.value
        #expect(titles == Array(all.prefix(titles.count)), "the snapshot is a prefix of the acknowledged writes")
        #expect(titles.count >= before.count, "every write acknowledged before the backup began is in it")
        #expect(titles.count <= afterCount, "nothing acknowledged after the backup ended is in it")
        print("backup under a writer (\(store)): \(titles.count) of \(all.count) acknowledged writes in the snapshot (\(before.count) before it began)")
        #expect(await server.stop() != nil)
        stopped = true
        await deployment.cleanUp()
    }

    @Test("restore over an existing tenant: refused without --replace, replaced with it; bad backups create nothing; clones are isolated", arguments: Self.stores)
    func restoreReplaceCloneAndBadBackups(store: String) async throws {
        let deployment = try CrossProcessTests.Deployment(demo: .vapor, store: store)
        let created = try await deployment.tenants("create", "acme")
        try #require(created.status == 0, "\(created.stderr)")
        let server = try await deployment.startServer()
        var stopped = false
        defer { if !stopped { Task { await server.stop() } } }
        #expect(try await server.post("original", to: "acme") == 201)
        #expect(try await server.putFile("logo.txt", "acme logo", to: "acme") == 201)
        let file = deployment.directory.appending("acme.backup")
        try #require(try await deployment.tenants("backup", "acme", "--to", file).status == 0)
        #expect(try await server.post("later", to: "acme") == 201)
        #expect(try await server.putFile("later.txt", "after the backup", to: "acme") == 201)

        let refused = try await deployment.tenants("restore", "acme", "--from", file)
        #expect(refused.status == 1)
        #expect(Self.errorLines(refused.stderr).count == 1 && Self.errorLines(refused.stderr)[0].hasPrefix("error: tenantExists:"), "\(refused.stderr)")
        #expect(try await server.titles(of: "acme").titles == ["later", "original"], "left untouched")
        let replaced = try await deployment.tenants("restore", "acme", "--from", file, "--replace")
        try #require(replaced.status == 0, "\(replaced.stderr)")
        #expect(try await server.titles(of: "acme") == (200, ["original"]), "the running server serves the restored data at once")
        #expect(try await server.file("logo.txt", of: "acme") == "acme logo", "the tenant's files travel with the backup")
        #expect(try await server.file("later.txt", of: "acme") == nil, "and are the backup's set, exactly")
        #expect(try await server.post("after restore", to: "acme") == 201)

        // Bad backups: each refused in one line, nothing created.
        let junk = deployment.directory.appending("junk.bin")
        try Data((0..<2048).map { _ in UInt8.random(in: 0...255) }).write(to: URL(fileURLWithPath: junk))
        for path in [junk, deployment.directory.appending("missing.backup"), deployment.directory.path] {
            let bad = try await deployment.tenants("restore", "fresh", "--from", path)
            #expect(bad.status == 1)
            #expect(Self.errorLines(bad.stderr).count == 1 && Self.errorLines(bad.stderr)[0].hasPrefix("error: badBackup:"), "\(bad.stderr)")
            #expect(!bad.stderr.contains(deployment.directory.path), "no path in the message")
        }
        #expect(try await deployment.tenants("list").stdout == "acme\n")

        let cloned = try await deployment.tenants("clone", "acme", "beta")
        try #require(cloned.status == 0, "\(cloned.stderr)")
        #expect(cloned.stdout == "cloned acme to beta\n")
        #expect(try await server.post("beta only", to: "beta") == 201)
        #expect(try await server.post("acme only", to: "acme") == 201)
        #expect(try await server.titles(of: "beta").titles == ["after restore", "beta only", "original"])
        #expect(try await server.titles(of: "acme").titles == ["acme only", "after restore", "original"])
        #expect(try await server.file("logo.txt", of: "beta") == "acme logo", "a clone copies the files")
        #expect(try await server.putFile("logo.txt", "beta logo", to: "beta") == 201)
        #expect(try await server.file("logo.txt", of: "acme") == "acme logo", "and they are its own")

        #expect(await server.stop() != nil)
        stopped = true
        await deployment.cleanUp()
    }

    @Test("a restore or a template create killed at any point leaves the tenant absent or complete, never half-visible", arguments: Self.stores)
    func killedRestoresAndCreates(store: String) async throws {
        let deployment = try CrossProcessTests.Deployment(demo: .vapor, store: store)
        try #require(try await deployment.tenants("create", "source").status == 0)
        let server = try await deployment.startServer()
        var stopped = false
        defer { if !stopped { Task { await server.stop() } } }
        #expect(try await server.post("kept", to: "source") == 201)
        let file = deployment.directory.appending("source.backup")
        try #require(try await deployment.tenants("backup", "source", "--to", file).status == 0)

        let clock = ContinuousClock()
        let rounds = store == "sqlite" ? Soak.choose(12, soak: 100) : Soak.choose(4, soak: 30)
        var outcomes: [String: Int] = [:]
        for (verb, arguments) in [("restore", ["restore", "victim", "--from", file]), ("create", ["create", "victim"])] {
            let started = clock.now
            let full = try await deployment.command.run(["tenants"] + arguments, environment: deployment.environment)
            let span = clock.now - started
            try #require(full.status == 0, "\(full.stderr)")
            try #require(try await deployment.tenants("destroy", "victim").status == 0)
            for _ in 0..<rounds {
                let run = try await deployment.command.run(["tenants"] + arguments, environment: deployment.environment, killAfter: span * Double.random(in: 0.1...1.1))
                let exists = try await deployment.tenants("status", "--tenant", "victim")
                let listed = try await deployment.tenants("list").stdout.split(separator: "\n").contains("victim")
                #expect((exists.status == 0) == listed, "status says \(exists.status == 0) but listed \(listed)")
                if listed {
                    let (status, titles) = try await server.titles(of: "victim")
                    #expect(status == 200)
                    #expect(titles == (verb == "restore" ? ["kept"] : []), "a listed tenant is complete")
                    outcomes["\(verb): complete", default: 0] += 1
                    try #require(try await deployment.tenants("destroy", "victim").status == 0)
                } else {
                    #expect(run.killed, "exited \(run.status) without finishing: \(run.stderr)")
                    #expect(try await server.titles(of: "victim").status == 404)
                    outcomes["\(verb): absent", default: 0] += 1
                    // Whatever the killed run left, the next one succeeds.
                    // On PostgreSQL the killed process's tenant lock ends when its server session notices
                    // the closed connection: until then a create says "being created". Retry, bounded.
                    var again = try await deployment.command.run(["tenants"] + arguments, environment: deployment.environment)
                    let clock = ContinuousClock()
                    let started = clock.now
                    while again.status != 0, again.stderr.contains("tenantExists"), clock.now - started < .seconds(30) {
                        try await Task.sleep(for: .milliseconds(100))
                        again = try await deployment.command.run(["tenants"] + arguments, environment: deployment.environment)
                    }
                    #expect(again.status == 0, "\(again.stderr)")
                    try #require(try await deployment.tenants("destroy", "victim").status == 0)
                }
            }
        }
        print("killed restores and template creates (\(store)): \(outcomes.sorted { $0.key < $1.key })")
        #expect(await server.stop() != nil)
        stopped = true
        await deployment.cleanUp()
    }
}
