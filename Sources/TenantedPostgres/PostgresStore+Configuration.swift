public import Logging
public import NIOCore
public import NIOPosix
public import Tenanted

extension PostgresStore {
    /// How tenants are laid out on a server.
    public enum Layout: Sendable, Hashable {
        /// A database per tenant, named prefix + tenant, created with `CREATE DATABASE … TEMPLATE`.
        case databasePerTenant(template: String = "template1")
        /// A schema per tenant, named prefix + tenant, in each server's ``PostgresServer/database``.
        case schemaPerTenant(SchemaMode = .poolPerTenant)
    }

    /// How the schema-per-tenant layout reaches a tenant's schema.
    ///
    /// See <doc:TenantedPostgres#Schema-per-tenant-and-PgBouncer> for when each mode is safe.
    public enum SchemaMode: Sendable, Hashable {
        /// The default: each tenant's pool connects with `search_path` set to its schema as a
        /// startup parameter. No `SET search_path` ever runs on a pooled session, so no session state
        /// can carry one tenant's schema into another tenant's query. Each pool open checks that the
        /// schema is in effect and refuses the tenant with
        /// ``Tenanted/TenantedError/Code/invalidConfiguration`` when it is not (a pooler such as
        /// PgBouncer dropped the parameter).
        case poolPerTenant
        /// One pool per server shared by every tenant; each tenant operation runs in a transaction
        /// that begins with `SET LOCAL search_path`. For very many tenants: connections are shared,
        /// but every statement pays for a transaction. The schema mode that is safe behind PgBouncer's
        /// transaction pooling.
        case sharedPool
    }

    /// How new tenants are placed on servers.
    public struct PlacementPolicy: Sendable {
        let choose: @Sendable (_ tenant: TenantID, _ tenantsPerServer: [(server: String, tenants: Int)]) -> String

        /// The server holding the fewest tenants (ties: the first in configuration order).
        public static let fewestTenants = PlacementPolicy { _, load in
            load.min { $0.tenants < $1.tenants }?.server ?? load[0].server
        }

        /// A stable hash of the tenant's name: the same name always lands on the same server while
        /// the server list is unchanged.
        public static let hash = PlacementPolicy { tenant, load in
            // FNV-1a: stable across processes and releases, unlike Swift's seeded Hasher.
            load[Int(tenant.stableHash64 % UInt64(load.count))].server
        }

        /// The server this policy picks for `tenant`, given the number of tenants on each server.
        public func server(for tenant: TenantID, tenantsPerServer: [(server: String, tenants: Int)]) -> String {
            choose(tenant, tenantsPerServer)
        }

        /// Your own rule: given the tenant and the number of tenants on each server (in configuration
        /// order), return a server name. An unknown name fails the create with
        /// ``Tenanted/TenantedError/Code/invalidConfiguration``.
        public static func custom(_ choose: @escaping @Sendable (_ tenant: TenantID, _ tenantsPerServer: [(server: String, tenants: Int)]) -> String) -> PlacementPolicy {
            PlacementPolicy(choose: choose)
        }
    }

    /// Options of a ``PostgresStore``.
    public struct Configuration: Sendable {
        /// The servers tenants are placed on; at least one, with distinct names.
        public var servers: [PostgresServer]
        /// The server whose ``PostgresServer/database`` holds the placement catalog
        /// (`tenanted.placements`). Default: the first server.
        public var catalogServer: String?
        /// Database or schema per tenant. Default: ``Layout/databasePerTenant(template:)`` from `template1`.
        public var layout: Layout
        /// Prepended to the tenant name to make its database or schema name: lowercase letters,
        /// digits and `_`, starting with a letter or `_`, at most 30 characters. Default: `tenant_`.
        /// Prefix plus tenant name must fit PostgreSQL's 63-byte identifiers; longer names are refused
        /// with ``Tenanted/TenantedError/Code/badTenantName``.
        public var prefix: String
        /// How new tenants are placed. Default: ``PlacementPolicy/fewestTenants``.
        public var placement: PlacementPolicy
        /// Connections of one tenant's pool (pool per tenant) or of a server's shared pool. Default: 4.
        public var maximumConnectionsPerTenant: Int
        /// Connections that a tenant's open pool (pool per tenant), and a server's shared pool,
        /// keep open while idle; at most ``maximumConnectionsPerTenant``. Default: 1.
        ///
        /// postgres-nio gives every connection above this number an idle-timeout timer each time it
        /// goes back to the pool (a task, a timer, and their cancellation at the next lease): with 0,
        /// each query of a single caller pays that. Kept connections cost the server a backend each
        /// while the pool is open, within the pool's share of ``maximumConnectionsPerServer`` (a pool
        /// reserves its maximum either way); closing the pool (eviction, ``Tenanted/TenantPools/Configuration/idleTimeout``,
        /// the budget making room, shutdown) closes them.
        ///
        /// With database per tenant, another process's destroy ends this pool's sessions
        /// (`DROP DATABASE … WITH (FORCE)`) and postgres-nio reconnects the kept connection at once,
        /// to a database that is gone: each failed attempt makes the pool ask the catalog, so requests
        /// never wait on the dropped database's pool, even when the destroy's announcement is late
        /// or missed; they fail with ``Tenanted/TenantedError/Code/tenantNotFound``.
        public var minimumConnectionsPerPool: Int
        /// Connections of a server's shared pool in ``SchemaMode/sharedPool``. Default: 20.
        public var maximumSharedConnections: Int
        /// Connections of each of the store's own clients: the catalog and advisory-lock clients (on
        /// the catalog server) and each server's maintenance client (DDL, listings). At least 2: the
        /// catalog client keeps one connection listening for other processes' changes. Default: 4.
        ///
        /// They count against ``maximumConnectionsPerServer`` from first use to
        /// ``PostgresStore/shutdown()``, so they are kept small; a create, destroy or move holds one
        /// lock connection for its whole length, so more than this many of them at once queue.
        public var maximumMaintenanceConnections: Int
        /// The most connections this process opens to one server, over every client the store runs
        /// there: the connection budget. Default: 90, under PostgreSQL's default `max_connections` of
        /// 100 with room for its 3 superuser-reserved slots and an administrator's `psql`.
        ///
        /// Every client reserves its maximum size from its server's budget before it starts and gives
        /// it back once its connections are closed, so the connections open to the server never
        /// exceed the budget: a tenant's pool takes ``maximumConnectionsPerTenant``; the catalog and
        /// the advisory-lock clients (on the catalog server) and each server's maintenance client
        /// take ``maximumMaintenanceConnections`` each, and (in ``SchemaMode/sharedPool``) a server's
        /// shared pool ``maximumSharedConnections``, from first use until ``PostgresStore/shutdown()``
        /// — the catalog client's share includes the connection that listens for other processes'
        /// changes; a short-lived client (a move's, a
        /// restore's) takes 2; the `search_path` check at a schema pool's open, and each `pg_dump` or
        /// `pg_restore` a move or a schema template runs, take 1 while they run.
        ///
        /// When a reservation does not fit, the store asks the ``Tenanted/Tenancy``'s registry to close
        /// idle pools of other tenants on that server, least recently used first, and waits (first
        /// come, first served) at most ``connectionBudgetTimeout``; then the request fails with
        /// ``Tenanted/TenantedError/Code/poolLimitReached`` naming the server. Pools that are leased
        /// are never closed.
        ///
        /// The budget is per store, so per process: a deployment's total is processes × budget (plus
        /// the `tenants` command while it runs), and that total must stay under the server's
        /// `max_connections` minus `superuser_reserved_connections`. Past it the server refuses
        /// connections with SQLSTATE 53300 ("too many clients"); a query that meets that refusal fails
        /// with ``Tenanted/TenantedError/Code/poolLimitReached`` too, never with a bare driver error.
        /// It must hold the fixed clients above plus one tenant pool; a smaller value is refused with
        /// ``Tenanted/TenantedError/Code/invalidConfiguration``. With the defaults the fixed clients
        /// take 12 on the catalog server, so 19 tenant pools of 4 fit before idle ones are closed to
        /// make room: to keep more pools open, lower ``maximumConnectionsPerTenant`` or raise the
        /// server's `max_connections` and this budget together.
        public var maximumConnectionsPerServer: Int
        /// How long a request waits for room under ``maximumConnectionsPerServer`` before it fails
        /// with ``Tenanted/TenantedError/Code/poolLimitReached``. Default: 10 seconds.
        public var connectionBudgetTimeout: Duration
        /// How long `destroy` and `move` wait for another process's create, destroy or move of the same
        /// tenant. Default: 30 seconds.
        public var lockTimeout: Duration
        /// The `pg_dump` and `pg_restore` a move runs. Default: found on `PATH`, else in the newest
        /// `/usr/lib/postgresql/*/bin`.
        public var pgDumpPath: String?
        /// The matching `pg_restore`; see ``pgDumpPath``.
        public var pgRestorePath: String?
        /// The event loops of the connections and of Fluent contexts Tenanted makes. Default: the
        /// shared `MultiThreadedEventLoopGroup.singleton`.
        public var eventLoopGroup: any EventLoopGroup
        /// For Tenanted's own log lines (creates, moves). Default: label `tenanted.postgres`.
        public var logger: Logger
        /// The modes of backup files (and the temporary dumps beside them), whatever the umask.
        /// Default: ``Tenanted/TenantFilePermissions/ownerOnly`` (0600).
        public var filePermissions: TenantFilePermissions

        /// Creates a configuration; every parameter but `servers` has the default documented on its property.
        public init(
            servers: [PostgresServer],
            catalogServer: String? = nil,
            layout: Layout = .databasePerTenant(),
            prefix: String = "tenant_",
            placement: PlacementPolicy = .fewestTenants,
            maximumConnectionsPerTenant: Int = 4,
            minimumConnectionsPerPool: Int = 1,
            maximumSharedConnections: Int = 20,
            maximumMaintenanceConnections: Int = 4,
            maximumConnectionsPerServer: Int = 90,
            connectionBudgetTimeout: Duration = .seconds(10),
            lockTimeout: Duration = .seconds(30),
            pgDumpPath: String? = nil,
            pgRestorePath: String? = nil,
            eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
            logger: Logger = Logger(label: "tenanted.postgres"),
            filePermissions: TenantFilePermissions = .ownerOnly
        ) {
            self.servers = servers
            self.catalogServer = catalogServer
            self.layout = layout
            self.prefix = prefix
            self.placement = placement
            self.maximumConnectionsPerTenant = maximumConnectionsPerTenant
            self.minimumConnectionsPerPool = minimumConnectionsPerPool
            self.maximumSharedConnections = maximumSharedConnections
            self.maximumMaintenanceConnections = maximumMaintenanceConnections
            self.maximumConnectionsPerServer = maximumConnectionsPerServer
            self.connectionBudgetTimeout = connectionBudgetTimeout
            self.lockTimeout = lockTimeout
            self.pgDumpPath = pgDumpPath
            self.pgRestorePath = pgRestorePath
            self.eventLoopGroup = eventLoopGroup
            self.logger = logger
            self.filePermissions = filePermissions
        }

        /// Checks every option; ``PostgresStore/init(configuration:)`` calls it.
        func validate() throws(TenantedError) {
            guard !servers.isEmpty else {
                throw TenantedError(.invalidConfiguration, "PostgresStore needs at least one server")
            }
            var names: Set<String> = []
            for server in servers where !names.insert(server.name).inserted {
                throw TenantedError(.invalidConfiguration, "two PostgreSQL servers are named '\(server.name)'")
            }
            if let catalogServer, !names.contains(catalogServer) {
                throw TenantedError(.invalidConfiguration, "the catalog server '\(catalogServer)' is not one of the servers (\(servers.map(\.name).joined(separator: ", ")))")
            }
            let prefixOK = ASCIIAllowlist.lowercaseIdentifier.allows(prefix, maximumLength: 30)
                && !(prefix.utf8.first.map { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) } ?? true)
            guard prefixOK else {
                throw TenantedError(.invalidConfiguration, "the PostgreSQL name prefix must be 1 to 30 lowercase letters, digits or '_', starting with a letter or '_'")
            }
            if case .databasePerTenant(let template) = layout, template.isEmpty || template.contains("\u{0}") {
                throw TenantedError(.invalidConfiguration, "the template database name is empty")
            }
            guard maximumConnectionsPerTenant >= 1, maximumSharedConnections >= 2, maximumMaintenanceConnections >= 2 else {
                throw TenantedError(.invalidConfiguration, "maximumConnectionsPerTenant must be at least 1, maximumSharedConnections and maximumMaintenanceConnections at least 2")
            }
            guard (0...maximumConnectionsPerTenant).contains(minimumConnectionsPerPool), minimumConnectionsPerPool <= maximumSharedConnections else {
                throw TenantedError(
                    .invalidConfiguration,
                    "minimumConnectionsPerPool is \(minimumConnectionsPerPool); it must be from 0 to maximumConnectionsPerTenant (\(maximumConnectionsPerTenant)) and maximumSharedConnections (\(maximumSharedConnections))"
                )
            }
            for server in servers {
                let needed = minimumConnections(on: server.name, catalogServer: catalogServer ?? servers[0].name)
                guard maximumConnectionsPerServer >= needed else {
                    throw TenantedError(
                        .invalidConfiguration,
                        "maximumConnectionsPerServer is \(maximumConnectionsPerServer), but server '\(server.name)' needs at least \(needed): its catalog, lock and maintenance clients take maximumMaintenanceConnections (\(maximumMaintenanceConnections)) each, a shared pool maximumSharedConnections (\(maximumSharedConnections)), plus one tenant pool (maximumConnectionsPerTenant, \(maximumConnectionsPerTenant)) or short-lived client (2); raise the budget or lower those"
                    )
                }
            }
            guard connectionBudgetTimeout > .zero else {
                throw TenantedError(.invalidConfiguration, "connectionBudgetTimeout must be positive")
            }
            guard lockTimeout > .zero else {
                throw TenantedError(.invalidConfiguration, "lockTimeout must be positive")
            }
        }

        /// The connections `server`'s fixed clients take from its budget, plus room for one tenant
        /// pool or short-lived client: the smallest workable ``maximumConnectionsPerServer``.
        func minimumConnections(on server: String, catalogServer: String) -> Int {
            var fixed = maximumMaintenanceConnections  // maintenance
            if server == catalogServer { fixed += 2 * maximumMaintenanceConnections }  // catalog, locks
            var tenantPool = maximumConnectionsPerTenant
            if case .schemaPerTenant(.sharedPool) = layout {
                fixed += maximumSharedConnections
                tenantPool = 0
            }
            return fixed + max(tenantPool, 2)
        }
    }
}
