import Foundation
import TenantedTestSupport
import Testing

/// The `tenants` commands, run as subprocesses of both built demo executables: the same script,
/// the same output and exit codes.
@Suite struct TenantsCommandTests {
    typealias Run = DemoProcess.Run

    let directory = try! TemporaryDirectory()

    func run(_ demo: Demo, _ arguments: [String], environment extra: [String: String] = [:]) async throws -> Run {
        try await DemoProcess(storage: directory.appending("storage"), demo: demo).run(arguments, environment: extra)
    }

    func json(_ run: Run) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(run.stdout.utf8))
    }

    @Test(arguments: Demo.allCases)
    func createListMigrateStatusRollbackDestroy(demo: Demo) async throws {
        try #require(demo.isBuilt, "build \(demo) first (scripts/test does)")

        let created = try await run(demo, ["tenants", "create", "acme"])
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stdout == "created acme\n")
        #expect(try await run(demo, ["tenants", "create", "globex"]).status == 0)
        let again = try await run(demo, ["tenants", "create", "acme"])
        #expect(again.status != 0)
        #expect(try await run(demo, ["tenants", "create", "acme", "--if-not-exists"]).stdout == "exists acme\n")

        let list = try await run(demo, ["tenants", "list", "--json"])
        #expect(list.status == 0)
        #expect(try json(list) as? [String] == ["acme", "globex"])
        #expect(try await run(demo, ["tenants", "list"]).stdout == "acme\nglobex\n")

        let migrate = try await run(demo, ["tenants", "migrate", "--json", "--parallel", "2"])
        #expect(migrate.status == 0, "\(migrate.stderr)")
        let report = try #require(try json(migrate) as? [String: Any])
        #expect(report["succeeded"] as? Bool == true)
        #expect((report["results"] as? [[String: Any]])?.map { $0["outcome"] as? String } == ["current", "current"])

        let status = try #require(try json(try await run(demo, ["tenants", "status", "--json"])) as? [[String: Any]])
        #expect(status.map { $0["tenant"] as? String } == ["acme", "globex"])
        #expect(status.allSatisfy { ($0["pending"] as? [String])?.isEmpty == true && ($0["applied"] as? [String])?.count == 1 })

        // TENANT selects the tenant, like ARTENANT.
        let rollback = try await run(demo, ["tenants", "rollback"], environment: ["TENANT": "acme"])
        #expect(rollback.status == 0, "\(rollback.stderr)")
        #expect(rollback.stdout.contains("reverted acme"))
        let acmeStatus = try await run(demo, ["tenants", "status", "--tenant", "acme"])
        #expect(acmeStatus.stdout.contains("1 pending"))
        let remigrate = try await run(demo, ["tenants", "migrate"])
        #expect(remigrate.status == 0)
        #expect(remigrate.stdout.contains("migrated acme"))
        #expect(remigrate.stdout.contains("2 tenant(s): 1 migrated, 1 unchanged, 0 failed"))

        #expect(try await run(demo, ["tenants", "destroy", "acme"]).stdout == "destroyed acme\n")
        #expect(try json(try await run(demo, ["tenants", "list", "--json"])) as? [String] == ["globex"])
        #expect(try await run(demo, ["tenants", "destroy", "acme"]).status != 0)
    }

    @Test(arguments: Demo.allCases)
    func bucketedSQLiteLayoutFromTheEnvironment(demo: Demo) async throws {
        try #require(demo.isBuilt, "build \(demo) first (scripts/test does)")
        let bucketed = ["TENANTED_SQLITE_PATH_TEMPLATE": "tenants/%{bucket}/%{tenant}/main.sqlite3"]
        let created = try await run(demo, ["tenants", "create", "acme"], environment: bucketed)
        #expect(created.status == 0, "\(created.stderr)")
        // FNV-1a("acme") = 0x45fd71af: buckets 45/fd.
        #expect(directory.exists("storage/tenants/45/fd/acme/main.sqlite3"))
        #expect(!directory.exists("storage/tenants/acme/main.sqlite3"))
        #expect(try await run(demo, ["tenants", "list"], environment: bucketed).stdout == "acme\n")
        // The default layout does not look into the buckets.
        #expect(try await run(demo, ["tenants", "list"]).stdout == "")
        for bad in ["/abs/%{tenant}.sqlite3", "tenants/main.sqlite3", "tenants/%{bucket}", "tenants/%{nope}/%{tenant}.sqlite3"] {
            let refused = try await run(demo, ["tenants", "list"], environment: ["TENANTED_SQLITE_PATH_TEMPLATE": bad])
            #expect(refused.status == 64, "\(bad)")
            #expect(refused.stderr.contains("TENANTED_SQLITE_PATH_TEMPLATE"), "\(bad): \(refused.stderr)")
        }
    }

    /// One script, both executables, each on a storage of its own: every command answers with the
    /// same standard output, the same `error:` lines and the same exit status.
    @Test func bothDemosAnswerTheSameScriptIdentically() async throws {
        for demo in Demo.allCases { try #require(demo.isBuilt, "build \(demo) first (scripts/test does)") }
        let script: [([String], [String: String])] = [
            (["tenants", "list", "--json"], [:]),
            (["tenants", "create", "acme"], [:]),
            (["tenants", "create", "globex"], [:]),
            (["tenants", "create", "acme"], [:]),
            (["tenants", "create", "acme", "--if-not-exists"], [:]),
            (["tenants", "create", "Bad/Name"], [:]),
            (["tenants", "list"], [:]),
            (["tenants", "status"], [:]),
            (["tenants", "status", "--json"], [:]),
            (["tenants", "migrate", "--json"], [:]),
            (["tenants", "rollback", "--json"], ["TENANT": "acme"]),
            (["tenants", "status", "--tenant", "acme", "--json"], [:]),
            (["tenants", "migrate", "--parallel", "2"], [:]),
            (["tenants", "migrate", "--parallel", "0"], [:]),
            (["tenants", "migrate", "--tenant", "nosuch"], [:]),
            (["tenants", "move", "acme", "--to", "two"], [:]),
            // The operations (`{dir}` is each demo's own directory).
            (["tenants", "backup", "acme", "--to", "{dir}/acme.backup"], [:]),
            (["tenants", "backup", "acme", "--to", "{dir}/acme.backup"], [:]),
            (["tenants", "backup", "acme"], [:]),
            (["tenants", "restore", "copy", "--from", "{dir}/acme.backup"], [:]),
            (["tenants", "restore", "copy", "--from", "{dir}/acme.backup"], [:]),
            (["tenants", "restore", "other", "--from", "{dir}/nothing.backup"], [:]),
            (["tenants", "clone", "acme", "twin"], [:]),
            (["tenants", "suspend", "acme", "--reason", "maintenance"], [:]),
            (["tenants", "status", "--json"], [:]),
            (["tenants", "resume", "acme"], [:]),
            (["tenants", "suspend", "nosuch"], [:]),
            (["tenants", "seed", "--tenant", "acme"], [:]),
            (["tenants", "seed"], [:]),
            (["tenants", "list"], [:]),
            (["tenants", "destroy", "globex"], [:]),
            (["tenants", "destroy", "globex"], [:]),
            (["tenants", "list", "--json"], [:]),
            (["tenants", "list"], ["TENANTED_MAX_POOLS": "0"]),
            (["tenants", "list"], ["TENANTED_STORE": "mongodb"]),
        ]
        let storages = try Demo.allCases.map { _ in try TemporaryDirectory() }
        for (arguments, environment) in script {
            var answers: [String] = []
            for (demo, storage) in zip(Demo.allCases, storages) {
                let run = try await DemoProcess(storage: storage.appending("storage"), demo: demo)
                    .run(arguments.map { $0.replacingOccurrences(of: "{dir}", with: storage.path) }, environment: environment)
                // The program's name starts a configuration error's line; the rest is the same.
                let errors = run.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") || $0.hasPrefix(demo.rawValue + ":") }
                    .map { $0.replacingOccurrences(of: demo.rawValue + ":", with: "<demo>:") }
                answers.append("status \(run.status)\nstdout:\n\(run.stdout)errors:\n\(errors.joined(separator: "\n"))")
            }
            #expect(Set(answers).count == 1, "`\(arguments.joined(separator: " "))` answered differently:\n\(answers.joined(separator: "\n----\n"))")
        }
    }

    @Test(arguments: Demo.allCases)
    func badInputIsRefusedWithAClearMessageAndNothingChanges(demo: Demo) async throws {
        try #require(demo.isBuilt, "build \(demo) first (scripts/test does)")
        for name in ["../etc", "ACME", "a/b", ""] {
            let result = try await run(demo, ["tenants", "create", name])
            #expect(result.status != 0, "create \(name)")
        }
        #expect(try await run(demo, ["tenants", "migrate", "--parallel", "0"]).status != 0)
        #expect(try await run(demo, ["tenants", "migrate", "--tenant", "../x"]).status != 0)
        #expect(try await run(demo, ["tenants", "migrate", "--tenant", "nosuch"]).status != 0)
        let pools = try await run(demo, ["tenants", "list"], environment: ["TENANTED_MAX_POOLS": "many"])
        #expect(pools.status == 64)
        #expect(pools.stderr.contains("TENANTED_MAX_POOLS"))
        let domain = try await run(demo, ["serve", "--base-domain", "evil/../x"])
        #expect(domain.status == 64)
        #expect(try json(try await run(demo, ["tenants", "list", "--json"])) as? [String] == [])
        #expect(!directory.exists("storage/tenants/etc"))
    }

    /// The same commands over PostgreSQL, a database or a schema per tenant (either schema mode) on
    /// two servers, and `tenants move` between them.
    @Test(
        .enabled(if: Self.postgresServers != nil, "TENANTED_POSTGRES_URL and TENANTED_POSTGRES_URL_2 are not both set: PostgreSQL command tests skipped"),
        arguments: Demo.allCases, ["postgres-database", "postgres-schema", "postgres-schema-shared"]
    )
    func postgresStoresServeTheSameCommands(demo: Demo, store: String) async throws {
        try #require(demo.isBuilt, "build \(demo) first (scripts/test does)")
        let prefix = "c" + UUID().uuidString.prefix(8).lowercased().filter(\.isHexDigit) + "_"
        let environment = ["TENANTED_STORE": store, "TENANTED_POSTGRES_SERVERS": try #require(Self.postgresServers), "TENANTED_POSTGRES_PREFIX": prefix]
        let run = { (arguments: [String]) in try await self.run(demo, arguments, environment: environment) }

        let createdAcme = try await run(["tenants", "create", "acme"])
        #expect(createdAcme.stdout == "created acme\n", "\(createdAcme.stderr.suffix(2000))")
        let createdGlobex = try await run(["tenants", "create", "globex"])
        #expect(createdGlobex.status == 0, "\(createdGlobex.stderr.suffix(2000))")
        #expect(try await run(["tenants", "create", "acme"]).status != 0)
        #expect(try json(try await run(["tenants", "list", "--json"])) as? [String] == ["acme", "globex"])
        let status = try #require(try json(try await run(["tenants", "status", "--json"])) as? [[String: Any]])
        #expect(status.allSatisfy { ($0["applied"] as? [String])?.count == 1 })

        // fewestTenants put acme on one server and globex on the other; move acme onto globex's.
        let moved = try await run(["tenants", "move", "acme", "--to", "two", "--json"])
        let movedAgain = moved.status == 0 ? moved : try await run(["tenants", "move", "acme", "--to", "one", "--json"])
        #expect(movedAgain.status == 0, "\(moved.stderr) \(movedAgain.stderr)")
        let report = try #require(try json(movedAgain) as? [String: Any])
        #expect(report["tenant"] as? String == "acme")
        #expect((report["rowCounts"] as? [String: Int])?.keys.contains("notes") == true)
        let nowhere = try await run(["tenants", "move", "acme", "--to", "nowhere"])
        #expect(nowhere.status != 0 && nowhere.stderr.contains("nowhere"))
        #expect(try await run(["tenants", "migrate"]).status == 0)

        for name in ["acme", "globex"] { #expect(try await run(["tenants", "destroy", name]).status == 0) }
        #expect(try json(try await run(["tenants", "list", "--json"])) as? [String] == [])
    }

    /// The same commands over MySQL / MariaDB (a database per tenant), on both demos (Fluent's
    /// migrations in one, `MySQLMigrator` in the other); `move` is refused there.
    @Test(.enabled(if: Self.mysqlURL != nil, "TENANTED_MYSQL_URL is not set: MySQL command tests skipped"), arguments: Demo.allCases)
    func mysqlStoreServesTheSameCommands(demo: Demo) async throws {
        try #require(demo.isBuilt, "build \(demo) first (scripts/test does)")
        let prefix = "c" + UUID().uuidString.prefix(8).lowercased().filter(\.isHexDigit) + "_"
        let environment = ["TENANTED_STORE": "mysql", "TENANTED_MYSQL_URL": try #require(Self.mysqlURL), "TENANTED_MYSQL_PREFIX": prefix]
        let run = { (arguments: [String]) in try await self.run(demo, arguments, environment: environment) }

        let createdAcme = try await run(["tenants", "create", "acme"])
        #expect(createdAcme.stdout == "created acme\n", "\(createdAcme.stderr.suffix(2000))")
        let createdGlobex = try await run(["tenants", "create", "globex"])
        #expect(createdGlobex.status == 0, "\(createdGlobex.stderr.suffix(2000))")
        #expect(try await run(["tenants", "create", "acme"]).status != 0)
        #expect(try json(try await run(["tenants", "list", "--json"])) as? [String] == ["acme", "globex"])
        let status = try #require(try json(try await run(["tenants", "status", "--json"])) as? [[String: Any]])
        #expect(status.allSatisfy { ($0["applied"] as? [String])?.count == 1 })
        #expect(try await run(["tenants", "migrate"]).status == 0)
        let rollback = try await self.run(demo, ["tenants", "rollback"], environment: environment.merging(["TENANT": "acme"]) { $1 })
        #expect(rollback.status == 0 && rollback.stdout.contains("reverted acme"), "\(rollback.stderr)")
        #expect(try await run(["tenants", "status", "--tenant", "acme"]).stdout.contains("1 pending"))
        let remigrate = try await run(["tenants", "migrate"])
        #expect(remigrate.status == 0 && remigrate.stdout.contains("migrated acme"), "\(remigrate.stderr)")
        let move = try await run(["tenants", "move", "acme", "--to", "two"])
        #expect(move.status != 0 && move.stderr.contains("cannot move tenants"), "\(move.stderr)")

        for name in ["acme", "globex"] { #expect(try await run(["tenants", "destroy", name]).status == 0) }
        #expect(try json(try await run(["tenants", "list", "--json"])) as? [String] == [])
        #expect(try await run(["tenants", "destroy", "acme"]).status != 0)
    }

    /// Both demos read the MySQL options alike (``DemoEnvironment``) and refuse bad ones with 64,
    /// never echoing the password.
    @Test(arguments: Demo.allCases)
    func mysqlOptionsAreChecked(demo: Demo) async throws {
        try #require(demo.isBuilt, "build \(demo) first (scripts/test does)")
        let noURL = try await run(demo, ["tenants", "list"], environment: ["TENANTED_STORE": "mysql", "TENANTED_MYSQL_URL": ""])
        #expect(noURL.status == 64 && noURL.stderr.contains("TENANTED_MYSQL_URL"), "\(noURL.stderr)")
        let badURL = try await run(demo, ["tenants", "list"], environment: ["TENANTED_STORE": "mysql", "TENANTED_MYSQL_URL": "postgres://app:hunter2@db/x"])
        #expect(badURL.status == 64 && badURL.stderr.contains("mysql://") && !badURL.stderr.contains("hunter2"), "\(badURL.stderr)")
        let badPrefix = try await run(demo, ["tenants", "list"], environment: [
            "TENANTED_STORE": "mysql", "TENANTED_MYSQL_URL": "mysql://app:hunter2@127.0.0.1:1/x", "TENANTED_MYSQL_PREFIX": "Bad-Prefix",
        ])
        #expect(badPrefix.status == 64 && badPrefix.stderr.contains("prefix") && !badPrefix.stderr.contains("hunter2"), "\(badPrefix.stderr)")
    }

    static let mysqlURL = ProcessInfo.processInfo.environment["TENANTED_MYSQL_URL"].flatMap { $0.isEmpty ? nil : $0 }

    @Test(arguments: Demo.allCases)
    func storeOptionsAreChecked(demo: Demo) async throws {
        try #require(demo.isBuilt, "build \(demo) first (scripts/test does)")
        let unknown = try await run(demo, ["tenants", "list"], environment: ["TENANTED_STORE": "mongodb"])
        #expect(unknown.status == 64 && unknown.stderr.contains("TENANTED_STORE"))
        let noURL = try await run(demo, ["tenants", "list"], environment: ["TENANTED_STORE": "postgres-schema", "TENANTED_POSTGRES_URL": "", "TENANTED_POSTGRES_SERVERS": ""])
        #expect(noURL.status == 64 && noURL.stderr.contains("TENANTED_POSTGRES_URL"))
        let badURL = try await run(demo, ["tenants", "list"], environment: ["TENANTED_STORE": "postgres-database", "TENANTED_POSTGRES_URL": "mysql://x@y/z", "TENANTED_POSTGRES_SERVERS": ""])
        #expect(badURL.status == 64 && badURL.stderr.contains("postgres://"))
        let badPrefix = try await run(demo, ["tenants", "list"], environment: [
            "TENANTED_STORE": "postgres-database", "TENANTED_POSTGRES_URL": "postgres://x@127.0.0.1:1/z", "TENANTED_POSTGRES_PREFIX": "Bad-Prefix",
        ])
        #expect(badPrefix.status == 64 && badPrefix.stderr.contains("prefix"))
        let sqliteMove = try await run(demo, ["tenants", "move", "acme", "--to", "two"])
        #expect(sqliteMove.status != 0 && sqliteMove.stderr.contains("cannot move tenants"), "\(sqliteMove.stderr)")
    }

    static let postgresServers: String? = {
        let environment = ProcessInfo.processInfo.environment
        guard let one = environment["TENANTED_POSTGRES_URL"], !one.isEmpty,
              let two = environment["TENANTED_POSTGRES_URL_2"], !two.isEmpty else { return nil }
        return "one=\(one),two=\(two)"
    }()
}
