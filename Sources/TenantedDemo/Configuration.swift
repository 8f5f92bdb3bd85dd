import Foundation
import Tenanted
import TenantedDemoSupport
import TenantedMySQL
import TenantedPostgres
import TenantedSQLite

/// The demo's own options, taken out of the command line before Vapor parses the rest
/// (`serve --hostname --port` are Vapor's), and its environment (``DemoEnvironment``, shared with
/// `tenanted-hummingbird-demo`).
struct DemoOptions {
    /// `--base-domain D`: tenants are `<name>.D`. Default: `localhost`.
    var baseDomain = "localhost"
    /// `--no-seed`: do not create `acme` and `globex` on a first start.
    var seed = true
    /// `TENANTED_*`: the storage, the store and its servers.
    var environment = DemoEnvironment()

    typealias StoreKind = DemoEnvironment.StoreKind

    /// `TENANTED_STORAGE`: the storage root.
    var storage: String {
        get { environment.storage }
        set { environment.storage = newValue }
    }
    var maximumPools: Int { environment.maximumPools }
    var store: StoreKind { environment.store }
    var migrationDelay: Duration? { environment.migrationDelay }

    /// Removes the demo's options from `arguments` and reads the environment.
    /// - Throws: ``Tenanted/TenantedError/Code/invalidConfiguration`` for a bad value.
    static func extract(from arguments: inout [String], environment: [String: String]) throws -> DemoOptions {
        var options = DemoOptions()
        var remaining: [String] = []
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            switch argument {
            case "--base-domain":
                let next = arguments.index(after: index)
                guard next < arguments.endIndex else {
                    throw TenantedError(.invalidConfiguration, "--base-domain needs a value, e.g. --base-domain localhost")
                }
                options.baseDomain = try DemoEnvironment.validDomain(arguments[next])
                index = arguments.index(after: next)
                continue
            case let value where value.hasPrefix("--base-domain="):
                options.baseDomain = try DemoEnvironment.validDomain(String(value.dropFirst("--base-domain=".count)))
            case "--no-seed":
                options.seed = false
            default:
                remaining.append(argument)
            }
            index = arguments.index(after: index)
        }
        // `serve` is the default command; Vapor wants it named before its options.
        if remaining.count == 1 || remaining.dropFirst().first?.hasPrefix("-") == true {
            remaining.insert("serve", at: min(1, remaining.count))
        }
        arguments = remaining
        options.environment = try DemoEnvironment(environment)
        return options
    }

    /// The SQLite store under the storage root: `<storage>/tenants/<name>/main.sqlite3`.
    func sqliteStore() throws -> SQLiteStore { try environment.sqliteStore() }

    /// The PostgreSQL store for ``store``.
    func postgresStore() throws -> PostgresStore { try environment.postgresStore() }

    /// The MySQL store for ``store`` `mysql`.
    func mysqlStore() throws -> MySQLStore { try environment.mysqlStore() }
}
