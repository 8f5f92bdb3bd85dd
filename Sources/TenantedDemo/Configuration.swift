import Foundation
import Tenanted
import TenantedFluentMySQL
import TenantedFluentPostgres
import TenantedMySQL
import TenantedPostgres
import TenantedFluentSQLite
import TenantedSQLite

/// The demo's own options, taken out of the command line before Vapor parses the rest
/// (`serve --hostname --port` are Vapor's).
struct DemoOptions {
    /// `--base-domain D`: tenants are `<name>.D`. Default: `localhost`.
    var baseDomain = "localhost"
    /// `--no-seed`: do not create `acme` and `globex` on a first start.
    var seed = true
    /// `TENANTED_STORAGE`: the storage root. Default: `./storage`.
    var storage = "./storage"
    /// `TENANTED_MAX_POOLS`: open tenant pools at most. Default: 50.
    var maximumPools = 50
    /// `TENANTED_STORE`: where tenants live. Default: ``StoreKind/sqlite``.
    var store = StoreKind.sqlite
    /// `TENANTED_POSTGRES_URL` (one server, named `server1`) or `TENANTED_POSTGRES_SERVERS`
    /// (`name=url,name=url`): the PostgreSQL servers of the PostgreSQL stores.
    var postgresServers: [PostgresServer] = []
    /// `TENANTED_POSTGRES_PREFIX`: the tenant database or schema name prefix. Default: `demo_`.
    var postgresPrefix = "demo_"
    /// `TENANTED_MYSQL_URL` (`mysql://user:password@host:port/db`): the server of the MySQL store.
    var mysqlURL: String?
    /// `TENANTED_MYSQL_PREFIX`: the tenant database name prefix. Default: `demo_`.
    var mysqlPrefix = "demo_"

    /// The stores the demo runs on.
    enum StoreKind: String, CaseIterable {
        /// A SQLite file per tenant under ``DemoOptions/storage``.
        case sqlite
        /// A PostgreSQL database per tenant.
        case postgresDatabase = "postgres-database"
        /// A PostgreSQL schema per tenant, a pool per tenant with `search_path` at connect. Refused
        /// (fail closed) behind a pooler that drops `search_path`.
        case postgresSchema = "postgres-schema"
        /// A PostgreSQL schema per tenant over one shared pool, `SET LOCAL search_path` in every
        /// transaction: the schema layout that is safe behind PgBouncer's transaction pooling.
        case postgresSchemaShared = "postgres-schema-shared"
        /// A MySQL or MariaDB database per tenant.
        case mysql
    }

    /// `TENANTED_DEMO_MIGRATION_DELAY_MS`: a pause inside every tenant migration, so the reliability
    /// tests can kill the demo in the middle of `tenants create` and race two `tenants migrate`.
    /// Default: none.
    var migrationDelay: Duration?

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
                options.baseDomain = try validDomain(arguments[next])
                index = arguments.index(after: next)
                continue
            case let value where value.hasPrefix("--base-domain="):
                options.baseDomain = try validDomain(String(value.dropFirst("--base-domain=".count)))
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
        if let storage = environment["TENANTED_STORAGE"] {
            guard !storage.isEmpty, !storage.contains("\0") else {
                throw TenantedError(.invalidConfiguration, "TENANTED_STORAGE must be a directory path")
            }
            options.storage = storage
        }
        if let pools = environment["TENANTED_MAX_POOLS"] {
            guard let value = Int(pools), value >= 1 else {
                throw TenantedError(.invalidConfiguration, "TENANTED_MAX_POOLS must be a whole number of at least 1")
            }
            options.maximumPools = value
        }
        if let kind = environment["TENANTED_STORE"], !kind.isEmpty {
            guard let store = StoreKind(rawValue: kind) else {
                throw TenantedError(.invalidConfiguration, "TENANTED_STORE must be one of \(StoreKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            options.store = store
        }
        if options.store == .mysql {
            guard let url = environment["TENANTED_MYSQL_URL"], !url.isEmpty else {
                throw TenantedError(.invalidConfiguration, "TENANTED_STORE=mysql needs TENANTED_MYSQL_URL (mysql://USER:PASSWORD@HOST:PORT/DATABASE)")
            }
            options.mysqlURL = url
            if let prefix = environment["TENANTED_MYSQL_PREFIX"], !prefix.isEmpty { options.mysqlPrefix = prefix }
            _ = try options.mysqlStore()  // reports a bad URL or prefix now, with exit status 64
        } else if options.store != .sqlite {
            options.postgresServers = try postgresServers(environment)
            if let prefix = environment["TENANTED_POSTGRES_PREFIX"], !prefix.isEmpty { options.postgresPrefix = prefix }
            _ = try options.postgresStore()  // reports a bad prefix now, with exit status 64
        }
        if let delay = environment["TENANTED_DEMO_MIGRATION_DELAY_MS"] {
            guard let milliseconds = Int(delay), milliseconds >= 0 else {
                throw TenantedError(.invalidConfiguration, "TENANTED_DEMO_MIGRATION_DELAY_MS must be a whole number of milliseconds")
            }
            options.migrationDelay = .milliseconds(milliseconds)
        }
        return options
    }

    /// The servers named by `TENANTED_POSTGRES_SERVERS` (`name=url,…`), else `TENANTED_POSTGRES_URL`.
    static func postgresServers(_ environment: [String: String]) throws -> [PostgresServer] {
        if let list = environment["TENANTED_POSTGRES_SERVERS"], !list.isEmpty {
            return try list.split(separator: ",").map { entry in
                let parts = entry.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else {
                    throw TenantedError(.invalidConfiguration, "TENANTED_POSTGRES_SERVERS must be name=url pairs separated by commas")
                }
                return try PostgresServer(name: String(parts[0]), url: String(parts[1]))
            }
        }
        guard let url = environment["TENANTED_POSTGRES_URL"], !url.isEmpty else {
            throw TenantedError(.invalidConfiguration, "TENANTED_STORE=postgres-… needs TENANTED_POSTGRES_URL (postgres://USER@HOST:PORT/DATABASE) or TENANTED_POSTGRES_SERVERS")
        }
        return [try PostgresServer(name: "server1", url: url)]
    }

    /// A host name: labels of letters, digits and `-`, joined by dots.
    static func validDomain(_ value: String) throws -> String {
        guard ASCIIAllowlist.isHostName(value) else {
            throw TenantedError(.invalidConfiguration, "--base-domain must be a host name such as localhost or example.com")
        }
        return value.lowercased()
    }

    /// Where tenants' files live: beside the database for SQLite (`<storage>/tenants/<name>/files`),
    /// under the storage root for PostgreSQL (`<storage>/files/<name>`).
    func tenantFiles() throws -> TenantFiles {
        let root = storage.hasSuffix("/") ? String(storage.dropLast()) : storage
        return try TenantFiles(root: store == .sqlite ? root + "/tenants/%{tenant}/files" : root + "/files/%{tenant}")
    }

    /// The SQLite store under the storage root: `<storage>/tenants/<name>/main.sqlite3`.
    func sqliteStore() throws -> SQLiteStore {
        try FileManager.default.createDirectory(atPath: storage, withIntermediateDirectories: true)
        return try SQLiteStore(configuration: .init(root: storage, pathTemplate: "tenants/%{tenant}/main.sqlite3"))
    }

    /// The PostgreSQL store on ``postgresServers``, for ``store`` `postgres-database`, `postgres-schema`
    /// or `postgres-schema-shared`.
    func postgresStore() throws -> PostgresStore {
        let layout: PostgresStore.Layout = switch store {
        case .postgresDatabase: .databasePerTenant()
        case .postgresSchemaShared: .schemaPerTenant(.sharedPool)
        case .postgresSchema, .sqlite, .mysql: .schemaPerTenant()
        }
        return try PostgresStore(configuration: .init(servers: postgresServers, layout: layout, prefix: postgresPrefix))
    }

    /// The MySQL store on ``mysqlURL``, for ``store`` `mysql`.
    func mysqlStore() throws -> MySQLStore {
        try MySQLStore(configuration: .init(url: mysqlURL ?? "", prefix: mysqlPrefix))
    }
}
