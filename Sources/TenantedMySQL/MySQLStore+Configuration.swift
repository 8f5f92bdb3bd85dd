public import Logging
public import MariaDBClient
public import NIOCore
public import NIOPosix
public import Tenanted

extension MySQLStore {
    /// The options of a ``MySQLStore``.
    public struct Configuration: Sendable {
        /// The server, user and TLS settings; its database is not used (tenants have their own).
        public var server: MariaDBConfiguration
        /// What every tenant database's name starts with; lowercase letters, digits and `_`.
        /// Default: `tenant_`.
        public var prefix: String
        /// The database holding Tenanted's catalog (which tenants exist, their generations).
        /// Default: `tenanted`. Must not start with ``prefix``.
        public var catalogDatabase: String
        /// The most connections one tenant's pool opens. Default: 4.
        public var maximumConnectionsPerTenant: Int
        /// The most connections for the catalog, locks and DDL. Default: 4.
        public var maximumMaintenanceConnections: Int
        /// How often each process reads the catalog's change counter to learn of other processes'
        /// destroys and re-creates; a destroy waits two intervals between hiding the tenant and
        /// dropping its database. Default: 100 ms.
        public var coherenceInterval: Duration
        /// Where the client library's blocking calls run. Default: `NIOThreadPool.singleton` (one
        /// thread per core).
        ///
        /// Every call of the client library holds its thread for a whole round trip, and a statement
        /// waiting for a row lock for up to `innodb_lock_wait_timeout`: on the singleton the process
        /// runs as many statements at a time as it has cores, across all tenants. An app with slow
        /// statements or contended rows can give the store a pool of its own with room for them (and
        /// shut it down after the store). It is not the default because a pool of its own wakes an
        /// idle thread for each statement: measured with the SQLite store on two cores, that cost
        /// 25–35 % more CPU per request.
        public var threadPool: NIOThreadPool
        /// The event loops of the ORM contexts Tenanted makes itself. Default: the singleton group.
        public var eventLoopGroup: any EventLoopGroup
        public var logger: Logger

        /// Options for the server at `server`.
        public init(
            server: MariaDBConfiguration, prefix: String = "tenant_", catalogDatabase: String = "tenanted",
            maximumConnectionsPerTenant: Int = 4, maximumMaintenanceConnections: Int = 4,
            coherenceInterval: Duration = .milliseconds(100),
            threadPool: NIOThreadPool = .singleton, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
            logger: Logger = Logger(label: "tenanted.mysql")
        ) {
            self.server = server
            self.prefix = prefix
            self.catalogDatabase = catalogDatabase
            self.maximumConnectionsPerTenant = maximumConnectionsPerTenant
            self.maximumMaintenanceConnections = maximumMaintenanceConnections
            self.coherenceInterval = coherenceInterval
            self.threadPool = threadPool
            self.eventLoopGroup = eventLoopGroup
            self.logger = logger
        }

        /// Options for the server at `url` (`mysql://user:password@host:port/db?ssl-mode=…`).
        /// - Throws: ``Tenanted/TenantedError/Code/invalidConfiguration`` for a bad URL; the message
        ///   says what is wrong, never the URL.
        public init(url: String, prefix: String = "tenant_") throws(TenantedError) {
            let server: MariaDBConfiguration
            do {
                server = try MariaDBConfiguration(url: url)
            } catch {
                throw TenantedError(.invalidConfiguration, "the MySQL store's URL: \(String(describing: error))")
            }
            self.init(server: server, prefix: prefix)
        }

        func validate() throws(TenantedError) {
            func bad(_ message: String) -> TenantedError { TenantedError(.invalidConfiguration, message) }
            let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789_")
            guard !prefix.isEmpty, prefix.count <= 32, prefix.allSatisfy({ allowed.contains($0) }) else {
                throw bad("the MySQL store's prefix must be 1 to 32 lowercase letters, digits or '_', got '\(prefix.prefix(40))'")
            }
            guard !catalogDatabase.isEmpty, catalogDatabase.count <= 64, catalogDatabase.allSatisfy({ allowed.contains($0) }) else {
                throw bad("the MySQL store's catalog database must be 1 to 64 lowercase letters, digits or '_'")
            }
            guard !catalogDatabase.hasPrefix(prefix) else {
                throw bad("the MySQL store's catalog database '\(catalogDatabase)' must not start with the tenant prefix '\(prefix)'")
            }
            guard maximumConnectionsPerTenant >= 1, maximumMaintenanceConnections >= 2 else {
                throw bad("the MySQL store needs at least 1 connection per tenant and 2 maintenance connections")
            }
            guard coherenceInterval > .zero, coherenceInterval <= .seconds(10) else {
                throw bad("the MySQL store's coherence interval must be above zero and at most 10 seconds")
            }
        }
    }
}
