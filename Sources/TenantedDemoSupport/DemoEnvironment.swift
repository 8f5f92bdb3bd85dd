import Foundation
public import Tenanted
public import TenantedAdmin
public import TenantedMySQL
public import TenantedPostgres
public import TenantedSQLite

/// What both demos (`tenanted-demo` on Vapor, `tenanted-hummingbird-demo` on Hummingbird) read from
/// the environment, and the stores it names: one parser, so the two interfaces cannot drift apart.
public struct DemoEnvironment: Sendable {
    /// `TENANTED_STORAGE`: the storage root. Default: `./storage`.
    public var storage = "./storage"
    /// `TENANTED_SQLITE_PATH_TEMPLATE`: where each tenant's SQLite file lives under the storage root
    /// (see `SQLiteStore.Configuration.pathTemplate`); `tenants/%{bucket1}/%{tenant}.sqlite3`
    /// spreads 100,000 tenants over 256 bucket folders. Default: `tenants/%{tenant}/main.sqlite3`.
    public var sqlitePathTemplate = "tenants/%{tenant}/main.sqlite3"
    /// `TENANTED_MAX_POOLS`: open tenant pools at most. Default: 50.
    public var maximumPools = 50
    /// `TENANTED_STORE`: where tenants live. Default: ``StoreKind/sqlite``.
    public var store = StoreKind.sqlite
    /// `TENANTED_POSTGRES_URL` (one server, named `server1`) or `TENANTED_POSTGRES_SERVERS`
    /// (`name=url,name=url`): the PostgreSQL servers of the PostgreSQL stores.
    public var postgresServers: [PostgresServer] = []
    /// `TENANTED_POSTGRES_PREFIX`: the tenant database or schema name prefix. Default: `demo_`.
    public var postgresPrefix = "demo_"
    /// `TENANTED_MYSQL_URL` (`mysql://user:password@host:port/db`): the server of the MySQL store.
    public var mysqlURL: String?
    /// `TENANTED_MYSQL_PREFIX`: the tenant database name prefix. Default: `demo_`.
    public var mysqlPrefix = "demo_"
    /// `TENANTED_DEMO_MIGRATION_DELAY_MS`: a pause inside every tenant migration, so the reliability
    /// tests can kill a demo in the middle of `tenants create` and race two `tenants migrate`.
    /// It also turns off creating tenants from a template, so each create runs the migration.
    /// Default: none.
    public var migrationDelay: Duration?
    /// The admin console's configuration, from `TENANTED_ADMIN_TOKEN`; `nil` (no console, `/admin` is
    /// a 404) when it is unset.
    public var admin: AdminConsole.Configuration?

    /// The stores the demos run on.
    public enum StoreKind: String, CaseIterable, Sendable {
        /// A SQLite file per tenant under ``DemoEnvironment/storage``.
        case sqlite
        /// A PostgreSQL database per tenant.
        case postgresDatabase = "postgres-database"
        /// A PostgreSQL schema per tenant, a pool per tenant with `search_path` at connect. Refused
        /// (fail closed) behind a pooler that drops `search_path`.
        case postgresSchema = "postgres-schema"
        /// A PostgreSQL schema per tenant over one shared pool, `SET LOCAL search_path` in every
        /// transaction: the schema layout that is safe behind PgBouncer's transaction pooling.
        case postgresSchemaShared = "postgres-schema-shared"
        /// A MySQL or MariaDB database per tenant (Fluent's migrations in `tenanted-demo`,
        /// `MySQLMigrator`'s plain SQL in `tenanted-hummingbird-demo`).
        case mysql
    }

    /// The defaults of every property.
    public init() {}

    /// Reads the environment.
    /// - Throws: ``Tenanted/TenantedError/Code/invalidConfiguration`` for a bad value (the demos exit 64).
    public init(_ environment: [String: String]) throws {
        if let storage = environment["TENANTED_STORAGE"] {
            guard !storage.isEmpty, !storage.contains("\0") else {
                throw TenantedError(.invalidConfiguration, "TENANTED_STORAGE must be a directory path")
            }
            self.storage = storage
        }
        if let template = environment["TENANTED_SQLITE_PATH_TEMPLATE"] {
            do {
                // Checked now, so a bad value stops the process before it touches anything.
                _ = try SQLiteStore(configuration: .init(root: "/", pathTemplate: template))
            } catch {
                throw TenantedError(.invalidConfiguration, "TENANTED_SQLITE_PATH_TEMPLATE: \(error.message)")
            }
            sqlitePathTemplate = template
        }
        if let pools = environment["TENANTED_MAX_POOLS"] {
            guard let value = Int(pools), value >= 1 else {
                throw TenantedError(.invalidConfiguration, "TENANTED_MAX_POOLS must be a whole number of at least 1")
            }
            maximumPools = value
        }
        if let kind = environment["TENANTED_STORE"], !kind.isEmpty {
            guard let store = StoreKind(rawValue: kind) else {
                throw TenantedError(.invalidConfiguration, "TENANTED_STORE must be one of \(StoreKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            self.store = store
        }
        if store == .mysql {
            guard let url = environment["TENANTED_MYSQL_URL"], !url.isEmpty else {
                throw TenantedError(.invalidConfiguration, "TENANTED_STORE=mysql needs TENANTED_MYSQL_URL (mysql://USER:PASSWORD@HOST:PORT/DATABASE)")
            }
            mysqlURL = url
            if let prefix = environment["TENANTED_MYSQL_PREFIX"], !prefix.isEmpty { mysqlPrefix = prefix }
            _ = try mysqlStore()  // reports a bad URL or prefix now, with exit status 64
        } else if store != .sqlite {
            postgresServers = try Self.postgresServers(environment)
            if let prefix = environment["TENANTED_POSTGRES_PREFIX"], !prefix.isEmpty { postgresPrefix = prefix }
            _ = try postgresStore()  // reports a bad prefix now, with exit status 64
        }
        admin = try AdminConsole.Configuration.fromEnvironment(environment)
        if let delay = environment["TENANTED_DEMO_MIGRATION_DELAY_MS"] {
            guard let milliseconds = Int(delay), milliseconds >= 0 else {
                throw TenantedError(.invalidConfiguration, "TENANTED_DEMO_MIGRATION_DELAY_MS must be a whole number of milliseconds")
            }
            migrationDelay = .milliseconds(milliseconds)
        }
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

    /// `--base-domain`'s value: a host name (labels of letters, digits and `-`, joined by dots), lowercased.
    /// - Throws: ``Tenanted/TenantedError/Code/invalidConfiguration`` for anything else.
    public static func validDomain(_ value: String) throws -> String {
        guard ASCIIAllowlist.isHostName(value) else {
            throw TenantedError(.invalidConfiguration, "--base-domain must be a host name such as localhost or example.com")
        }
        return value.lowercased()
    }

    /// Where tenants' files live: beside the database for SQLite (`<storage>/tenants/<name>/files`),
    /// under the storage root for PostgreSQL and MySQL (`<storage>/files/<name>`).
    public func tenantFiles() throws -> TenantFiles {
        // An absolute, standardized root: the default `./storage` has a `.` component, which a
        // tenant files template refuses.
        let root = URL(fileURLWithPath: storage, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            .standardizedFileURL.path
        return try TenantFiles(root: store == .sqlite ? root + "/tenants/%{tenant}/files" : root + "/files/%{tenant}")
    }

    /// The SQLite store under the storage root: ``sqlitePathTemplate`` there, by default
    /// `<storage>/tenants/<name>/main.sqlite3`.
    public func sqliteStore() throws -> SQLiteStore {
        try FileManager.default.createDirectory(atPath: storage, withIntermediateDirectories: true)
        return try SQLiteStore(configuration: .init(root: storage, pathTemplate: sqlitePathTemplate))
    }

    /// The PostgreSQL store on ``postgresServers``, for ``store`` `postgres-database`, `postgres-schema`
    /// or `postgres-schema-shared`.
    public func postgresStore() throws -> PostgresStore {
        let layout: PostgresStore.Layout = switch store {
        case .postgresDatabase: .databasePerTenant()
        case .postgresSchemaShared: .schemaPerTenant(.sharedPool)
        case .postgresSchema, .sqlite, .mysql: .schemaPerTenant()
        }
        return try PostgresStore(configuration: .init(servers: postgresServers, layout: layout, prefix: postgresPrefix))
    }

    /// The MySQL store on ``mysqlURL``, for ``store`` `mysql`.
    public func mysqlStore() throws -> MySQLStore {
        try MySQLStore(configuration: .init(url: mysqlURL ?? "", prefix: mysqlPrefix))
    }

    /// What `serve` prints after seeding `acme` and `globex` on a first start.
    public static func seededMessage(baseDomain base: String, port: String) -> String {
        """
        Created tenants acme and globex. Try:
          curl -H 'Content-Type: application/json' -d '{"title": "hello", "body": "from acme"}' http://acme.\(base):\(port)/notes
          curl http://acme.\(base):\(port)/notes http://globex.\(base):\(port)/notes

        """
    }

    /// The tenants `serve` seeds on a first start with an empty storage.
    public static let seededTenants = ["acme", "globex"]
}
