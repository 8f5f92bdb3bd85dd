import Foundation
import Logging
import NIOPosix
import PostgresNIO
import Synchronization
import Tenanted
import TenantedPostgres
import TenantedTestSupport
import Testing

/// The connection budget against a real server that accepts only 20 connections: a throwaway
/// cluster started by `scripts/postgres` with `TENANTED_PG_MAX_CONNECTIONS=20`, on port 25510 (or
/// the next free one; `TENANTED_BUDGET_PG_PORT` to start elsewhere). Skipped, with the reason, when the PostgreSQL server binaries are missing.
@Suite(
    "Connection budget on a server with max_connections 20",
    .serialized,
    .enabled(if: SmallPostgres.binariesInstalled, "PostgreSQL server binaries (initdb, pg_ctl) are not installed: connection budget tests skipped")
)
struct ConnectionBudgetServerTests {
    static let budget = 16

    @Test(
        "200 tenants, 32 concurrent clients: no request sees the server refuse a connection, and the server never holds more than the budget",
        arguments: TestLayout.allCases
    )
    func neverTooManyClients(layout: TestLayout) async throws {
        try await SmallPostgres.with { server in try await neverTooManyClients(layout: layout, server: server) }
    }

    func neverTooManyClients(layout: TestLayout, server: SmallPostgres) async throws {
        let store = try PostgresStore(configuration: .init(
            servers: [server.server], layout: layout.layout, prefix: "b_",
            maximumConnectionsPerTenant: 2, maximumSharedConnections: 2, maximumMaintenanceConnections: 2,
            maximumConnectionsPerServer: Self.budget, connectionBudgetTimeout: .seconds(20),
            logger: .silent
        ))
        let tenancy = try Tenancy(store: store, migrator: try PostgresMigrator([SQLMigration(name: "items", statements: [
            "CREATE TABLE items (id bigint PRIMARY KEY, value bigint NOT NULL)",
            "INSERT INTO items (id, value) SELECT g, g FROM generate_series(1, 20) g",
        ])]), logger: .silent)
        let sampler = try await ConnectionSampler.start(on: server.server)
        let tenants = try (0..<200).map { try TenantID("t\($0)") }
        let outcome = Locked(Outcome())
        do {
            // Creates run under the budget too: four at a time, each with its lock, catalog,
            // maintenance and own pool connections.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, tenant) in tenants.enumerated() {
                    if index >= 4 { try await group.next() }
                    group.addTask { try await tenancy.createTenant(tenant) }
                }
                try await group.waitForAll()
            }
            await withTaskGroup(of: Void.self) { group in
                for client in 0..<32 {
                    group.addTask {
                        var random = SplitMix(seed: UInt64(client + 1))
                        for operation in 0..<25 {
                            let tenant = tenants[Int(random.next() % UInt64(tenants.count))]
                            let id = Int(random.next() % 20) + 1
                            do {
                                try await tenancy.withTenant(tenant) {
                                    try await tenancy.currentPool(as: PostgresTenantPool.self).withConnection { connection in
                                        if operation % 5 == 4 {
                                            try await connection.query("UPDATE items SET value = value + 1 WHERE id = \(id)", logger: Logger.silent)
                                        } else {
                                            let rows = try await connection.query("SELECT value FROM items WHERE id = \(id)", logger: Logger.silent)
                                            for try await _ in rows {}
                                        }
                                    }
                                }
                                outcome.withLock { $0.succeeded += 1 }
                            } catch let error as TenantedError where error.code == .poolLimitReached {
                                outcome.withLock { $0.limited.append(error.message) }
                            } catch {
                                outcome.withLock { $0.otherFailures.append(String(reflecting: error)) }
                            }
                        }
                    }
                }
            }
        } catch {
            Issue.record("creating the tenants under the budget failed: \(String(reflecting: error))")
        }
        let peak = await sampler.stop()
        await tenancy.shutdown()
        let result = outcome.value
        print("connection budget (\(layout)): \(result.succeeded) succeeded, \(result.limited.count) poolLimitReached, \(result.otherFailures.count) other failures; at most \(peak) connections of the store seen on the server (budget \(Self.budget))")
        #expect(result.otherFailures.isEmpty, "every failure is poolLimitReached: \(result.otherFailures.prefix(3))")
        #expect(result.succeeded > 0)
        #expect(!result.limited.contains { $0.contains("53300") }, "no refusal by the server: \(result.limited.prefix(3))")
        if peak == Self.budget + 1 {
            // One over: a backend whose client has already closed (and given its share back) stays
            // in pg_stat_activity until it exits — seen twice in loaded runs, in the schema layout,
            // whose one-off search_path check connection closes right before its share returns.
            withKnownIssue("a backend whose client closed lingers in pg_stat_activity until it exits", isIntermittent: true) {
                #expect(peak <= Self.budget, "the server saw \(peak) connections, over the budget of \(Self.budget)")
            }
        } else {
            #expect(peak <= Self.budget, "the server saw \(peak) connections, over the budget of \(Self.budget)")
        }
        #expect(peak >= 6, "the sampler saw the store's connections at all")
        let log = (try? String(contentsOfFile: server.directory + "/postgres.log", encoding: .utf8)) ?? ""
        #expect(!log.contains("too many clients"), "the server never refused a connection")
    }

    @Test("when other processes fill the server, opening a pool fails with poolLimitReached, not a bare driver error, and works again once they leave")
    func anotherProcessAtTheServersLimit() async throws {
        try await SmallPostgres.with { server in try await anotherProcessAtTheServersLimit(server: server) }
    }

    func anotherProcessAtTheServersLimit(server: SmallPostgres) async throws {
        let store = try PostgresStore(configuration: .init(
            servers: [server.server], layout: .schemaPerTenant(.poolPerTenant), prefix: "x_",
            maximumConnectionsPerTenant: 2, maximumSharedConnections: 2, maximumMaintenanceConnections: 2, maximumConnectionsPerServer: Self.budget,
            logger: .silent
        ))
        let tenancy = try Tenancy(store: store, logger: .silent)
        let first = try TenantID("first"), second = try TenantID("second")
        try await tenancy.createTenant(first)
        try await tenancy.createTenant(second)
        try await tenancy.withTenant(first) {}
        // "Another process" takes every connection slot the server has left.
        var others: [PostgresConnection] = []
        var refusal: (any Error)?
        while refusal == nil, others.count < 40 {
            do {
                others.append(try await SmallPostgres.connect(to: server.server, id: others.count))
            } catch {
                refusal = error
            }
        }
        #expect(refusal.map { String(reflecting: $0).contains("53300") } == true, "the server refused the last raw connection: too many clients")
        await #expect {
            try await tenancy.withTenant(second) {}
        } throws: { error in
            guard let error = error as? TenantedError else { return false }
            return error.code == .poolLimitReached && error.message.contains("max_connections") && error.tenant == second
        }
        for connection in others { try? await connection.close() }
        // The server lets the other backends go asynchronously.
        var opened = false
        for _ in 0..<50 where !opened {
            do {
                try await tenancy.withTenant(second) {}
                opened = true
            } catch {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        #expect(opened, "the tenant opens once the other process left")
        await tenancy.shutdown()
    }

    struct Outcome: Sendable {
        var succeeded = 0
        var limited: [String] = []
        var otherFailures: [String] = []
    }
}

/// A throwaway PostgreSQL cluster accepting 20 connections.
struct SmallPostgres: Sendable {
    let directory: String
    let server: PostgresServer
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    static var binariesInstalled: Bool {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/initdb" }
        let debian = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).map { "/usr/lib/postgresql/\($0)/bin/initdb" }
        return (paths + debian).contains { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func start() async throws -> SmallPostgres {
        let directory = FileManager.default.temporaryDirectory.path + "/tenanted-budget-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // Output to files, not pipes: the server it starts would hold pipes open.
        // TENANTED_BUDGET_PG_PORT moves it (a helper's worktree has a port range of its own).
        let port = ProcessInfo.processInfo.environment["TENANTED_BUDGET_PG_PORT"] ?? "25510"
        let status = await runScript(["start", directory, port], output: directory + ".url", errors: directory + ".err")
        defer { try? FileManager.default.removeItem(atPath: directory + ".url"); try? FileManager.default.removeItem(atPath: directory + ".err") }
        guard status == 0 else {
            throw ChildProcess.Failure(description: "scripts/postgres start failed: \((try? String(contentsOfFile: directory + ".err", encoding: .utf8)) ?? "")")
        }
        let url = try String(contentsOfFile: directory + ".url", encoding: .utf8)
        var server = try PostgresServer(name: "small", url: url.trimmingCharacters(in: .whitespacesAndNewlines))
        server.tls = .disable
        return SmallPostgres(directory: directory, server: server)
    }

    /// Stops the cluster and removes its directory.
    func stop() async {
        _ = await Self.runScript(["stop", directory], output: "/dev/null", errors: "/dev/null")
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs `body` with a fresh cluster, stopped after, also when `body` throws.
    static func with(_ body: (SmallPostgres) async throws -> Void) async throws {
        let server = try await start()
        do {
            try await body(server)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    /// Runs `scripts/postgres ARGUMENTS` with its output in files, on a Dispatch thread (it blocks).
    static func runScript(_ arguments: [String], output: String, errors: String) async -> Int32 {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                if output != "/dev/null" { _ = FileManager.default.createFile(atPath: output, contents: nil) }
                if errors != "/dev/null" { _ = FileManager.default.createFile(atPath: errors, contents: nil) }
                let process = Process()
                // Through bash, which first closes every inherited descriptor above 2: Foundation
                // learns of the child's exit through one, and the server the script leaves running
                // would otherwise hold it open, so the wait would last as long as the server.
                process.executableURL = URL(fileURLWithPath: "/bin/bash")
                process.arguments = [
                    "-c",
                    #"for fd in /proc/$$/fd/*; do n=${fd##*/}; if [ "$n" -gt 2 ]; then eval "exec $n>&-" 2>/dev/null; fi; done; exec "$0" "$@""#,
                    root + "/scripts/postgres",
                ] + arguments
                process.currentDirectoryURL = URL(fileURLWithPath: root)
                var environment = ProcessInfo.processInfo.environment
                environment["TENANTED_PG_MAX_CONNECTIONS"] = "20"
                process.environment = environment
                process.standardInput = FileHandle.nullDevice
                process.standardOutput = FileHandle(forWritingAtPath: output)
                process.standardError = FileHandle(forWritingAtPath: errors)
                do {
                    try process.run()
                    process.waitUntilExit()
                    continuation.resume(returning: process.terminationStatus)
                } catch {
                    continuation.resume(returning: -1)
                }
            }
        }
    }

    static func connect(to server: PostgresServer, id: Int) async throws -> PostgresConnection {
        try await PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.any(),
            configuration: .init(host: server.host, port: server.port, username: server.username, password: server.password, database: server.database, tls: .disable),
            id: id, logger: .silent
        )
    }
}

/// Samples, every 5 ms on a connection of its own, how many other client connections the server
/// holds, and keeps the peak.
final class ConnectionSampler: Sendable {
    private let peak = Mutex(0)
    private let task = Mutex<Task<Void, Never>?>(nil)

    static func start(on server: PostgresServer) async throws -> ConnectionSampler {
        let sampler = ConnectionSampler()
        let connection = try await SmallPostgres.connect(to: server, id: 999)
        sampler.task.withLock {
            $0 = Task {
                while !Task.isCancelled {
                    do {
                        let rows = try await connection.query(
                            "SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
                            logger: .silent
                        )
                        for try await count in rows.decode(Int.self) { sampler.peak.withLock { $0 = max($0, count) } }
                        try await Task.sleep(for: .milliseconds(5))
                    } catch {
                        break
                    }
                }
                try? await connection.close()
            }
        }
        return sampler
    }

    /// Stops sampling and returns the peak.
    func stop() async -> Int {
        let task = task.withLock { $0 }
        task?.cancel()
        await task?.value
        return peak.withLock { $0 }
    }
}

/// A seeded SplitMix64: the same tenants on every run.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
