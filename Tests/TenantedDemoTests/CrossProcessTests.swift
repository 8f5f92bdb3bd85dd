import Foundation
import Tenanted
import TenantedTestSupport
import Testing

/// Issue 12: a deployment is several `serve` processes plus `tenants …` on one storage root or
/// catalog. What the command does to a tenant, every server sees before its next request for it.
/// Real processes of both built demos, real HTTP, for every store.
@Suite("Every process sees every tenant change", .serialized, .enabled(if: Demo.allCases.allSatisfy(\.isBuilt), "build both demos first (scripts/test does)"))
struct CrossProcessTests {
    static let postgresURL = ProcessInfo.processInfo.environment["TENANTED_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let secondPostgresURL = ProcessInfo.processInfo.environment["TENANTED_POSTGRES_URL_2"].flatMap { $0.isEmpty ? nil : $0 }

    static let mysqlURL = ProcessInfo.processInfo.environment["TENANTED_MYSQL_URL"].flatMap { $0.isEmpty ? nil : $0 }

    /// The stores to run against: SQLite always, PostgreSQL and MySQL when their URLs are set (else
    /// the skip is said).
    static let stores: [String] = {
        var stores = ["sqlite"]
        if postgresURL != nil {
            stores += ["postgres-database", "postgres-schema", "postgres-schema-shared"]
        } else {
            print("CrossProcessTests: TENANTED_POSTGRES_URL is not set: the PostgreSQL cases are skipped")
        }
        if mysqlURL != nil {
            stores.append("mysql")
        } else {
            print("CrossProcessTests: TENANTED_MYSQL_URL is not set: the MySQL cases are skipped")
        }
        return stores
    }()

    /// Each demo with each store: both serve every store.
    static let demosAndStores: [(Demo, String)] = Demo.allCases.flatMap { demo in stores.map { (demo, $0) } }

    /// One deployment: a storage root (SQLite) or a unique prefix (PostgreSQL) that servers and
    /// commands share.
    struct Deployment {
        let demo: Demo
        let directory: TemporaryDirectory
        let environment: [String: String]
        var storage: String { directory.appending("storage") }
        var command: DemoProcess { DemoProcess(storage: storage, demo: demo) }

        init(demo: Demo, store: String, servers: [String: String]? = nil) throws {
            self.demo = demo
            directory = try TemporaryDirectory()
            var environment = ["TENANTED_STORE": store]
            if store == "mysql" {
                environment["TENANTED_MYSQL_PREFIX"] = "x" + UUID().uuidString.prefix(8).lowercased().filter(\.isHexDigit) + "_"
                environment["TENANTED_MYSQL_URL"] = CrossProcessTests.mysqlURL ?? ""
            } else if store != "sqlite" {
                environment["TENANTED_POSTGRES_PREFIX"] = "x" + UUID().uuidString.prefix(8).lowercased().filter(\.isHexDigit) + "_"
                if let servers {
                    environment["TENANTED_POSTGRES_SERVERS"] = servers.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: ",")
                } else {
                    environment["TENANTED_POSTGRES_URL"] = CrossProcessTests.postgresURL ?? ""
                }
            }
            self.environment = environment
        }

        func tenants(_ arguments: String...) async throws -> DemoProcess.Run {
            try await command.run(["tenants"] + arguments, environment: environment)
        }

        /// A server of this deployment. The Vapor demo on `postgres-database` logs at debug level, so
        /// that a request it leaves unanswered fails with what the server was doing last (that demo and
        /// store once stalled here, waiting on another process's catalog set-up lock).
        func startServer() async throws -> DemoServerProcess {
            var environment = self.environment
            if demo == .vapor, environment["TENANTED_STORE"] == "postgres-database", environment["LOG_LEVEL"] == nil {
                environment["LOG_LEVEL"] = ProcessInfo.processInfo.environment["TENANTED_DEMO_LOG_LEVEL"] ?? "debug"
            }
            return try await DemoServerProcess.start(storage: storage, environment: environment, demo: demo)
        }

        /// Destroys whatever the test left (PostgreSQL databases and schemas outlive the directory).
        func cleanUp() async {
            guard let listed = try? await tenants("list") else { return }
            for name in listed.stdout.split(whereSeparator: \.isWhitespace) where (try? TenantID(String(name))) != nil {
                _ = try? await tenants("destroy", String(name))
            }
        }
    }

    @Test("destroy, then re-create from another process: 404 at once, then the new empty tenant; acknowledged writes survive a restart; SIGTERM stops each server", arguments: demosAndStores)
    func destroyAndRecreate(demo: Demo, store: String) async throws {
        let deployment = try Deployment(demo: demo, store: store)
        for name in ["acme", "globex"] {
            let created = try await deployment.tenants("create", name)
            try #require(created.status == 0, "\(created.stderr)")
        }
        let one = try await deployment.startServer()
        let two = try await deployment.startServer()
        var stopped = false
        defer { if !stopped { Task { await one.stop(); await two.stop() } } }

        #expect(try await one.post("old customer", to: "globex") == 201)
        #expect(try await one.titles(of: "globex").titles == ["old customer"])
        #expect(try await two.titles(of: "globex").titles == ["old customer"], "both servers hold a warm pool")

        let destroyed = try await deployment.tenants("destroy", "globex")
        try #require(destroyed.status == 0, "\(destroyed.stderr)")
        #expect(try await one.titles(of: "globex").status == 404, "the first request after the destroy returned")
        #expect(try await two.post("into the void", to: "globex") == 404, "a write after the destroy is not acknowledged")
        #expect(try await one.titles(of: "acme").status == 200, "other tenants are untouched")

        let recreated = try await deployment.tenants("create", "globex")
        try #require(recreated.status == 0, "\(recreated.stderr)")
        #expect(try await one.titles(of: "globex") == (200, []), "the new customer never sees the old notes")
        #expect(try await two.titles(of: "globex") == (200, []))
        #expect(try await two.post("new customer", to: "globex") == 201)
        #expect(try await one.titles(of: "globex").titles == ["new customer"])

        let tookOne = await one.stop()
        let tookTwo = await two.stop()
        stopped = true
        #expect(tookOne != nil && tookTwo != nil, "SIGTERM stopped both servers (took \(String(describing: tookOne)), \(String(describing: tookTwo)))")
        print("cross-process (\(demo), \(store)): SIGTERM stopped the servers in \(tookOne.map { "\($0)" } ?? "-") and \(tookTwo.map { "\($0)" } ?? "-")")

        let restarted = try await deployment.startServer()
        #expect(try await restarted.titles(of: "globex").titles == ["new customer"], "the acknowledged write survived the restart")
        #expect(await restarted.stop() != nil)
        await deployment.cleanUp()
    }

    @Test("writes in flight while another process destroys the tenant: each is acknowledged or refused with 404, and none reaches the re-created tenant", arguments: demosAndStores)
    func writesDuringDestroy(demo: Demo, store: String) async throws {
        let deployment = try Deployment(demo: demo, store: store)
        let created = try await deployment.tenants("create", "globex")
        try #require(created.status == 0, "\(created.stderr)")
        let server = try await deployment.startServer()
        var stopped = false
        defer { if !stopped { Task { await server.stop() } } }

        let stop = Locked(false)
        let statuses = Locked([Int]())
        // What a request without an answer failed with: the server's backtraces and PostgreSQL's
        // busy backends when it got no HTTP response (DemoServerProcess.request).
        let failures = Locked([String]())
        let writers = (0..<4).map { writer in
            Task {
                var count = 0
                while !stop.value {
                    count += 1
                    let status: Int
                    do {
                        status = try await server.post("w\(writer)-\(count)", to: "globex")
                    } catch {
                        status = -1
                        failures.append("\(error)")
                    }
                    statuses.append(status)
                    if status != 201 { try? await Task.sleep(for: .milliseconds(5)) }
                }
            }
        }
        // Destroy once writes are being acknowledged (on a loaded machine the first can take a while).
        let acknowledging = ContinuousClock.now + .seconds(30)
        while !statuses.value.contains(201), ContinuousClock.now < acknowledging { try await Task.sleep(for: .milliseconds(20)) }
        try await Task.sleep(for: .milliseconds(100))
        let destroyed = try await deployment.tenants("destroy", "globex")
        try #require(destroyed.status == 0, "\(destroyed.stderr)")
        try await Task.sleep(for: .milliseconds(200))
        stop.withLock { $0 = true }
        for writer in writers { await writer.value }
        let recreated = try await deployment.tenants("create", "globex")
        try #require(recreated.status == 0, "\(recreated.stderr)")

        let seen = Dictionary(grouping: statuses.value, by: { $0 }).mapValues(\.count)
        print("cross-process (\(demo), \(store)): writes during a destroy answered \(seen)")
        #expect(Set(seen.keys).isSubset(of: [201, 404]), "every write was acknowledged or refused with 404: \(seen); the first unanswered: \(failures.value.first ?? "none")")
        #expect(seen[201, default: 0] > 0 && seen[404, default: 0] > 0, "writes ran before and after the destroy: \(seen)")
        #expect(try await server.titles(of: "globex") == (200, []), "no write reached the re-created tenant")
        #expect(await server.stop() != nil, "SIGTERM stopped the server")
        stopped = true
        await deployment.cleanUp()
    }

    /// SQLite: two processes' writes to one tenant meet at the tenant's writer lock, where a
    /// waiting write sleeps its task (not in libsqlite3's busy handler on a thread every tenant's
    /// queries need): all are acknowledged, each stored once, and both servers read them all.
    @Test("two servers writing one SQLite tenant at once: every write is acknowledged and stored once, and both servers read them all", arguments: Demo.allCases)
    func twoServersWriteOneTenant(demo: Demo) async throws {
        let deployment = try Deployment(demo: demo, store: "sqlite")
        let created = try await deployment.tenants("create", "acme")
        try #require(created.status == 0, "\(created.stderr)")
        let servers = [try await deployment.startServer(), try await deployment.startServer()]
        var stopped = false
        defer { if !stopped { Task { for server in servers { await server.stop() } } } }

        let writersPerServer = 4, writesPerWriter = 25
        let statuses = Locked([Int]())
        let failures = Locked([String]())
        await withTaskGroup(of: Void.self) { group in
            for (index, server) in servers.enumerated() {
                for writer in 0..<writersPerServer {
                    group.addTask {
                        for write in 0..<writesPerWriter {
                            do {
                                statuses.append(try await server.post("s\(index)-w\(writer)-\(write)", to: "acme"))
                            } catch {
                                statuses.append(-1)
                                failures.append("\(error)")
                            }
                        }
                    }
                }
            }
        }
        let total = servers.count * writersPerServer * writesPerWriter
        let seen = Dictionary(grouping: statuses.value, by: { $0 }).mapValues(\.count)
        print("cross-process (\(demo), sqlite): two servers' writes to one tenant answered \(seen)")
        #expect(seen == [201: total], "every write was acknowledged: \(seen); the first failure: \(failures.value.first ?? "none")")
        for server in servers {
            let (status, titles) = try await server.titles(of: "acme")
            #expect(status == 200)
            #expect(titles.count == total && Set(titles).count == total, "each write stored once: \(titles.count) notes, \(Set(titles).count) distinct")
        }
        for server in servers { #expect(await server.stop() != nil, "SIGTERM stopped the server") }
        stopped = true
        await deployment.cleanUp()
    }

    /// SQLite: a server skips the migration log when it reopens a tenant it found migrated and
    /// whose file and storage did not change; a `tenants rollback` from another process moves the
    /// storage's change counter, so the server's next open reads the log and refuses the tenant.
    @Test("a rollback from another process: the server's next open of the tenant is a 503, and after a migrate a 200", arguments: Demo.allCases)
    func rollbackFromAnotherProcess(demo: Demo) async throws {
        let deployment = try Deployment(demo: demo, store: "sqlite")
        for tenant in ["acme", "globex"] {
            let created = try await deployment.tenants("create", tenant)
            try #require(created.status == 0, "\(created.stderr)")
        }
        // One open pool at most: each request for the other tenant closes the last one's pool.
        var environment = deployment.environment
        environment["TENANTED_MAX_POOLS"] = "1"
        let server = try await DemoServerProcess.start(storage: deployment.storage, environment: environment, demo: demo)
        var stopped = false
        defer { if !stopped { Task { await server.stop() } } }
        for tenant in ["acme", "globex", "acme", "globex"] {
            #expect(try await server.titles(of: tenant).status == 200, "\(tenant) served")
        }

        let rolledBack = try await deployment.tenants("rollback", "--tenant", "acme")
        try #require(rolledBack.status == 0, "\(rolledBack.stderr)")
        #expect(try await server.titles(of: "acme").status == 503, "the rolled-back tenant is refused as behind")
        #expect(try await server.titles(of: "globex").status == 200)

        let migrated = try await deployment.tenants("migrate", "--tenant", "acme")
        try #require(migrated.status == 0, "\(migrated.stderr)")
        #expect(try await server.titles(of: "acme").status == 200, "served again once migrated")
        #expect(await server.stop() != nil, "SIGTERM stopped the server")
        stopped = true
        await deployment.cleanUp()
    }

    @Test(
        "a move from another process: reads go on with the data, writes after the move are acknowledged on the new server",
        .enabled(if: postgresURL != nil && secondPostgresURL != nil, "TENANTED_POSTGRES_URL and _2 are not both set: the move case is skipped"),
        arguments: Demo.allCases, ["postgres-database", "postgres-schema", "postgres-schema-shared"]
    )
    func moveWhileServing(demo: Demo, store: String) async throws {
        let deployment = try Deployment(demo: demo, store: store, servers: ["one": Self.postgresURL ?? "", "two": Self.secondPostgresURL ?? ""])
        let created = try await deployment.tenants("create", "acme")
        try #require(created.status == 0, "\(created.stderr)")
        let server = try await deployment.startServer()
        var stopped = false
        defer { if !stopped { Task { await server.stop() } } }
        for index in 0..<20 { #expect(try await server.post("note \(index)", to: "acme") == 201) }

        let stop = Locked(false)
        let reads = Locked([Int]())
        let reader = Task {
            while !stop.value {
                let answer = try? await server.titles(of: "acme")
                reads.append(answer.map { $0.status == 200 ? $0.titles.count : -$0.status } ?? -1)
            }
        }
        // The tenant is on one of the two servers: move it to the other.
        var moved = try await deployment.tenants("move", "acme", "--to", "two")
        if moved.status != 0, moved.stderr.contains("already on server") {
            moved = try await deployment.tenants("move", "acme", "--to", "one")
        }
        try #require(moved.status == 0, "\(moved.stderr)")
        stop.withLock { $0 = true }
        await reader.value

        #expect(!reads.value.isEmpty)
        #expect(reads.value.allSatisfy { $0 == 20 }, "every read during the move was served with the data: \(Set(reads.value))")
        #expect(try await server.post("after the move", to: "acme") == 201)
        #expect(try await server.titles(of: "acme").titles.count == 21)
        // The write is on the new server: a fresh process reads it there.
        let fresh = try await deployment.startServer()
        #expect(try await fresh.titles(of: "acme").titles.contains("after the move"))
        #expect(await fresh.stop() != nil)
        #expect(await server.stop() != nil, "SIGTERM stopped the server")
        stopped = true
        await deployment.cleanUp()
    }
}
