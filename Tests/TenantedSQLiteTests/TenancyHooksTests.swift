import Foundation
import SQLiteNIO
import Tenanted
import TenantedSQLite
import TenantedTestSupport
import Testing

@Suite("Lifecycle hooks, jobs and seeding again, on real SQLite tenants")
struct TenancyHooksTests {
    let directory: TemporaryDirectory
    let acme = try! TenantID("acme")
    let globex = try! TenantID("globex")

    init() throws { directory = try TemporaryDirectory() }

    @Test("hooks run around create, destroy, migrate and entering, in order; a reserved name is refused and nothing is created")
    func hooksRunInOrder() async throws {
        let events = Locked<[String]>([])
        var configuration = Tenancy.Configuration()
        configuration.hooks.refuseNames(["www", "admin", "API"])
        configuration.hooks.beforeCreate { tenant in events.withLock { $0.append("before create \(tenant)") } }
        configuration.hooks.afterCreate { tenant in events.withLock { $0.append("after create \(tenant)") } }
        configuration.hooks.beforeDestroy { tenant in events.withLock { $0.append("before destroy \(tenant)") } }
        configuration.hooks.afterDestroy { tenant in events.withLock { $0.append("after destroy \(tenant)") } }
        configuration.hooks.beforeMigrate { tenant in events.withLock { $0.append("before migrate \(tenant)") } }
        configuration.hooks.afterMigrate { tenant, names in events.withLock { $0.append("after migrate \(tenant) \(names)") } }
        configuration.hooks.onEnter { tenant in events.withLock { $0.append("enter \(tenant) \(Tenant.current.map(\.description) ?? "-")") } }
        #expect(!configuration.hooks.isEmpty && TenancyHooks().isEmpty)

        try await directory.withTenancy(configuration) { tenancy in
            for reserved in ["www", "admin", "api"] {
                let error = await #expect(throws: TenantedError.self) { try await tenancy.createTenant(TenantID(reserved)) }
                #expect(error?.code == .badTenantName && error?.message.contains("reserved") == true)
            }
            #expect(try await tenancy.tenants().isEmpty)
            #expect(!directory.contents().contains { $0.contains("www") || $0.contains("admin") }, "a refused name leaves no file")

            try await tenancy.createTenant(acme)
            try await tenancy.withTenant(acme) {
                try await tenancy.withTenant(acme) {}   // nested: no second enter
            }
            try await tenancy.destroyTenant(acme)
            #expect(events.value == [
                "before create acme", "after create acme", "enter acme acme", "before destroy acme", "after destroy acme",
            ])
        }
        // Migrations on an existing tenant: a new migration applied by migrateAll.
        events.withLock { $0.removeAll() }
        try await directory.withTenancy(configuration) { tenancy in try await tenancy.createTenant(globex) }
        try await directory.withTenancy(configuration, migrator: .extended) { tenancy in
            let report = try await tenancy.migrateAll()
            #expect(report.succeeded)
            _ = try await tenancy.migrateAll()   // nothing pending: no hooks
        }
        #expect(events.value.filter { $0.contains("migrate") } == ["before migrate globex", "after migrate globex [\"003_note_tags\"]"])
    }

    @Test("a throwing before-hook stops the operation; a throwing enter hook refuses the scope")
    func throwingHooks() async throws {
        struct Refused: Error {}
        var configuration = Tenancy.Configuration()
        configuration.hooks.beforeDestroy { _ in throw Refused() }
        configuration.hooks.onEnter { tenant in if tenant.rawValue == "globex" { throw Refused() } }
        try await directory.withTenancy(configuration) { tenancy in
            try await tenancy.createTenant(acme)
            try await tenancy.createTenant(globex)
            await #expect(throws: Refused.self) { try await tenancy.destroyTenant(acme) }
            #expect(try await tenancy.tenantExists(acme), "the refused destroy kept the tenant")
            let ran = Locked(false)
            await #expect(throws: Refused.self) { try await tenancy.withTenant(globex) { ran.withLock { $0 = true } } }
            #expect(!ran.value, "the body of a refused scope never runs")
            try await tenancy.withTenant(acme) { ran.withLock { $0 = true } }
            #expect(ran.value)
        }
    }

    @Test("jobs enqueued in tenants run back in them on concurrent workers; a destroyed tenant's job fails with tenantNotFound")
    func jobsOnConcurrentWorkers() async throws {
        struct AddNote: Codable, Sendable { var body: String }
        try await directory.withTenancy { tenancy in
            let tenants = try (0..<6).map { try TenantID("t\($0)") }
            for tenant in tenants { try await tenancy.createTenant(tenant) }
            // The queue holds encoded envelopes, as a job library's storage would.
            let (queue, producer) = AsyncStream<Data>.makeStream()
            for round in 0..<10 {
                for tenant in tenants {
                    let job = try withTenant(tenant) { try TenantJob(AddNote(body: "\(tenant)-\(round)")) }
                    producer.yield(try JSONEncoder().encode(job))
                }
            }
            let gone = try TenantID("gone")
            try await tenancy.createTenant(gone)
            producer.yield(try JSONEncoder().encode(TenantJob(tenant: gone, payload: AddNote(body: "never"))))
            try await tenancy.destroyTenant(gone)
            producer.finish()

            let outcomes = try await withThrowingTaskGroup(of: [String].self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        var failures: [String] = []
                        for await data in queue {
                            let job = try JSONDecoder().decode(TenantJob<AddNote>.self, from: data)
                            do {
                                try await tenancy.run(job) { note in
                                    #expect(Tenant.current == job.tenant)
                                    try await tenancy.currentPool(as: SQLitePool.self).write {
                                        _ = try await $0.query("INSERT INTO notes (body) VALUES (?)", [.text(note.body)])
                                    }
                                }
                            } catch let error as TenantedError {
                                failures.append("\(error.code) \(job.tenant.map(\.description) ?? "-")")
                            }
                        }
                        return failures
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(outcomes == ["tenantNotFound gone"])
            for tenant in tenants {
                let bodies = try await tenancy.withTenant(tenant) {
                    try await tenancy.currentPool(as: SQLitePool.self).read { try await $0.strings("SELECT body FROM notes ORDER BY body") }
                }
                #expect(Set(bodies) == Set((0..<10).map { "\(tenant)-\($0)" }), "every job of \(tenant) ran in \(tenant), and only those")
            }
        }
    }

    @Test("tenants seed runs the seed again on one tenant or all; without a seed it is a clear error")
    func seedAgain() async throws {
        let seeded = Locked<[String]>([])
        let seed: TenantSeed<SQLitePool> = { tenant, pool in
            #expect(Tenant.current == tenant)
            try await pool.write { _ = try await $0.query("INSERT INTO notes (body) VALUES ('welcome')") }
            seeded.withLock { $0.append(tenant.rawValue) }
        }
        try await directory.withTenancy(seed: seed) { tenancy in
            try await tenancy.createTenant(acme)
            try await tenancy.createTenant(globex)
            let out = Locked("")
            let err = Locked("")
            let output = TenantCommands.Output(
                standardOutput: { line in out.withLock { $0 += line } }, standardError: { line in err.withLock { $0 += line } },
                errorIsTerminal: false)
            let commands = TenantCommands(tenancy: tenancy, output: output, environment: [:])
            try await commands.seed("acme", all: false)
            try await commands.seed(nil, all: true)
            #expect(out.value == "seeded acme\nseeded acme\nseeded globex\n")
            #expect(seeded.value == ["acme", "globex", "acme", "acme", "globex"])
            let count = try await tenancy.withTenant(acme) {
                try await tenancy.currentPool(as: SQLitePool.self).read { try await $0.scalar("SELECT count(*) FROM notes")?.integer }
            }
            #expect(count == 3)
            await #expect(throws: TenantsCommandFailed.self) { try await commands.seed(nil, all: false) }
            await #expect(throws: TenantsCommandFailed.self) { try await commands.seed("acme", all: true) }
            await #expect(throws: TenantsCommandFailed.self) { try await commands.seed("nobody", all: false) }
            await #expect(throws: TenantsCommandFailed.self) { try await commands.seed("../x", all: false) }
            #expect(err.value.split(separator: "\n").map { $0.split(separator: ":").prefix(2).joined(separator: ":") } == [
                "error: invalidConfiguration", "error: invalidConfiguration", "error: tenantNotFound", "error: badTenantName",
            ])
        }
        try await directory.withTenancy { tenancy in
            await expectTenantedError(.invalidConfiguration) { try await tenancy.seed(acme) }
        }
    }
}
