import Logging
public import PostgresNIO
import Synchronization
public import Tenanted

/// One tenant's open pool on its PostgreSQL server: what ``PostgresStore/open(_:)`` returns and
/// ``Tenanted/Tenancy`` keeps in its registry.
///
/// With a pool per tenant (database per tenant, or schema per tenant in the default mode) it owns a
/// `PostgresClient` whose connections reach only this tenant's database or schema. In
/// ``PostgresStore/SchemaMode/sharedPool`` it borrows its server's shared client, and every use
/// runs in a transaction that starts with `SET LOCAL search_path`.
public final class PostgresTenantPool: Sendable {
    /// The tenant this pool serves.
    public let tenant: TenantID
    /// The server the tenant is on.
    public let server: String
    /// The tenant's database (database per tenant) or the database holding its schema.
    public let database: String
    /// The tenant's schema: `public` for database per tenant.
    public let schema: String
    /// The client: this tenant's own, or (shared pool) its server's. An ORM adapter builds on it.
    package let client: PostgresClient
    /// Runs `client` while the pool is open; `nil` for a borrowed, shared client.
    let running: Task<Void, Never>?
    /// The pool's share of its server's connection budget, given back once `running` ended; `nil`
    /// for a borrowed, shared client.
    let reservation: ConnectionReservation?
    /// What an ORM adapter keeps for this pool (``adapterValue(_:)``).
    private let adapterSlot = Mutex<(any Sendable)?>(nil)
    /// Whether each use must begin with `SET LOCAL search_path` (shared pool).
    package let setsLocalSearchPath: Bool
    /// The tenant's generation in the catalog when the pool opened (0 for a create's own pool).
    let generation: Int64
    /// Asks the catalog whether the pool is still current, invalidating it when not (the store's
    /// ``PostgresStore/verify(_:)``); `nil` for a create's own pool.
    let verifier: (@Sendable (PostgresTenantPool) async -> Void)?
    private let validity = Mutex(Validity.current)
    /// Whether a check started by a failed connection attempt is running (one at a time).
    private let checkingAfterConnectFailure = Atomic(false)
    /// Operations an ORM adapter started on connections it leased from ``client`` itself
    /// (``trackOperation(failing:)``), and the error that ended the pool for them.
    private let adapterOperations = Mutex(AdapterOperations())

    private struct AdapterOperations {
        var next = 0
        var failing: [Int: @Sendable (any Error) -> Void] = [:]
        var ended: (any Error)?
    }

    /// Whether the pool still serves its tenant as the catalog holds it.
    package enum Validity: Sendable {
        case current
        /// The tenant moved or was replaced: new scopes open a fresh pool.
        case stale
        /// The tenant was destroyed (or is being destroyed).
        case gone
    }

    init(
        tenant: TenantID, server: String, database: String, schema: String,
        client: PostgresClient, running: Task<Void, Never>?, reservation: ConnectionReservation? = nil, setsLocalSearchPath: Bool,
        generation: Int64 = 0, verifier: (@Sendable (PostgresTenantPool) async -> Void)? = nil
    ) {
        self.tenant = tenant
        self.server = server
        self.database = database
        self.schema = schema
        self.client = client
        self.running = running
        self.reservation = reservation
        self.setsLocalSearchPath = setsLocalSearchPath
        self.generation = generation
        self.verifier = verifier
    }

    /// What an ORM adapter keeps for this pool — TenantedFluentPostgres: its Fluent driver over
    /// `client` — made by `make` on first use and kept until the pool closes. The store itself
    /// knows no ORM.
    package func adapterValue<Value: Sendable>(_ make: () -> Value) -> Value {
        adapterSlot.withLock { slot in
            if let value = slot as? Value { return value }
            let value = make()
            slot = value
            return value
        }
    }

    /// Whether the pool still serves its tenant as the catalog holds it: one lock, no I/O.
    public var isCurrent: Bool { validity.withLock { $0 == .current } }

    package var currentValidity: Validity { validity.withLock { $0 } }

    /// Marks the pool stale or gone (never back to current). A gone tenant's own client stops at once,
    /// so operations queued for a connection to a dropped database fail instead of waiting for a
    /// reconnect to whatever later holds the name; a moved tenant's client stops after
    /// `grace`, so reads already running on the old copy can finish.
    func invalidate(gone: Bool, grace: Duration = .seconds(1)) {
        let changed = validity.withLock { validity -> Bool in
            let next: Validity = gone ? .gone : .stale
            switch (validity, next) {
            case (.gone, _), (.stale, .stale): return false
            default:
                validity = next
                return true
            }
        }
        guard changed else { return }
        if gone { endAdapterOperations(with: goneError) }
        guard let running else { return }
        if gone {
            running.cancel()
        } else {
            Task {
                try? await Task.sleep(for: grace)
                running.cancel()
                await running.value
                self.endAdapterOperations(with: self.movedError(underlying: nil))
            }
        }
    }

    // MARK: Operations an ORM adapter runs on the client's connections

    // postgres-nio 1.33 writes a query without a write promise. A connection the server closed (a
    // destroy's `DROP DATABASE … WITH (FORCE)`) can still be lent by the client until its pool has
    // processed the close; a query written to it then goes nowhere, and whoever waits for it waits
    // for ever. ``withConnection(isolation:_:)`` checks the connection on its event loop first; an
    // adapter that leases through the client itself (FluentPostgresDriver does) cannot, so its
    // operations are tracked here and failed once the pool is retired: at once when the tenant is
    // gone, and when the client has stopped otherwise (by then no connection of it can answer).

    /// Registers an operation an ORM adapter is about to run on this pool's client; `fail` is called
    /// (at most once) with the error that retires the pool, if that happens before
    /// ``operationEnded(_:)``.
    /// - Throws: the error that retired the pool, when it already is (`tenantNotFound` for a gone
    ///   tenant): the operation must not start.
    package func trackOperation(failing fail: @escaping @Sendable (any Error) -> Void) throws -> Int {
        try adapterOperations.withLock { operations in
            if let ended = operations.ended { throw ended }
            operations.next += 1
            operations.failing[operations.next] = fail
            return operations.next
        }
    }

    /// Ends the tracking of an operation registered with ``trackOperation(failing:)``.
    package func operationEnded(_ id: Int) {
        _ = adapterOperations.withLock { $0.failing.removeValue(forKey: id) }
    }

    /// Fails every tracked operation with `error`, and every later one at once.
    private func endAdapterOperations(with error: any Error) {
        let failing = adapterOperations.withLock { operations -> [@Sendable (any Error) -> Void] in
            if operations.ended == nil { operations.ended = error }
            defer { operations.failing = [:] }
            return Array(operations.failing.values)
        }
        for fail in failing { fail(error) }
    }

    /// Called when postgres-nio failed to open a connection of this pool
    /// (``ConnectFailureLogHandler``): asks the catalog whether the tenant is still there, once at a
    /// time. A tenant destroyed meanwhile retires the pool, so the requests postgres-nio holds queued
    /// while it retries fail with ``Tenanted/TenantedError/Code/tenantNotFound`` instead of waiting
    /// for a connection to a database that is gone. A pool that is current (the server is down, or an
    /// administrator ended its sessions) stays as it is, and postgres-nio keeps retrying.
    func connectAttemptFailed() {
        guard currentValidity == .current, let verifier,
            checkingAfterConnectFailure.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        else { return }
        Task { [weak self] in
            guard let self else { return }
            await verifier(self)
            self.checkingAfterConnectFailure.store(false, ordering: .releasing)
        }
    }

    /// The error to report for `error`, raised by an operation on this pool: when the tenant is gone
    /// (known already, or learned now from the catalog after an error that a dropped database or
    /// schema causes), ``Tenanted/TenantedError/Code/tenantNotFound``; when it moved,
    /// a ``Tenanted/TenantedError/Code/storeFailure`` that says so; else `error` itself.
    package func translate(_ error: any Error) async -> any Error {
        if let error = error as? TenantedError { return error }
        if let refusal = TenantedError.tooManyClients("a query of tenant '\(tenant)' on server '\(server)'", tenant, error) { return refusal }
        if currentValidity == .current, error is SessionEnded || PostgresSQL.suggestsTenantGone(error), let verifier {
            await verifier(self)
        }
        switch currentValidity {
        case .current:
            if error is SessionEnded {
                return TenantedError(
                    .storeFailure, "a connection of tenant '\(tenant)' was closed by the server before use (its session was ended there); retry",
                    tenant: tenant
                )
            }
            return error
        case .gone: return goneError
        case .stale: return movedError(underlying: error)
        }
    }

    private func movedError(underlying: (any Error)?) -> TenantedError {
        TenantedError(
            .storeFailure,
            "tenant '\(tenant)' moved to another server while this operation ran on the old copy; retry it",
            tenant: tenant, underlying: underlying
        )
    }

    /// A leased connection whose session the server had already ended.
    struct SessionEnded: Error {}

    package var goneError: TenantedError {
        TenantedError(.tenantNotFound, "tenant '\(tenant)' was destroyed (by this or another process)", tenant: tenant)
    }

    /// Lends a connection to this tenant's data for `body`.
    ///
    /// With a pool per tenant the connection's `search_path` was set when it connected; with a shared
    /// pool `body` runs inside a transaction that began with `SET LOCAL search_path`, so it commits when
    /// `body` returns and rolls back when it throws. `body` prefers the connection's event loop as its
    /// task executor (non-isolated code in it runs on that loop's thread): keep blocking work out of it.
    public func withConnection<Result>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        if currentValidity == .gone { throw goneError }
        do {
            let schema = self.schema, setsLocalSearchPath = self.setsLocalSearchPath
            return try await client.withConnection(isolation: isolation) { connection in
                try await EventLoopTaskExecutor.preferring(connection.eventLoop, isolation: isolation) {
                    // postgres-nio 1.33 writes a query to its channel without a write promise: on a
                    // connection the server has already closed (a destroy's `DROP DATABASE … WITH
                    // (FORCE)`, `pg_terminate_backend`) the query is never answered, and its caller
                    // waits for ever. Checked here, on the connection's event loop, the connection
                    // cannot close between this check and the body's first write.
                    if connection.isClosed { throw SessionEnded() }
                    if setsLocalSearchPath {
                        return try await Self.inLocalSearchPath(schema, on: connection, isolation: isolation, body)
                    }
                    return try await body(connection)
                }
            }
        } catch {
            throw await translate(error)
        }
    }


    /// Stops the pool's own client (a shared client stays up): its connections close.
    func close() async {
        guard let running else { return }
        reservation?.markReturning()
        running.cancel()
        await running.value
        endAdapterOperations(with: TenantedError(.storeFailure, "the pool of tenant '\(tenant)' was closed while an operation waited for its server", tenant: tenant))
        reservation?.release()
    }

    static let logger = Logger(label: "tenanted.postgres.pool")
}
