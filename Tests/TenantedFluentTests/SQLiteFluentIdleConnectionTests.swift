import FluentKit
import FluentSQL
import NIOCore
import SQLKit
import SQLiteNIO
import Tenanted
import TenantedFluent
import TenantedFluentSQLite
import TenantedSQLite
import TenantedTestSupport
import Testing

/// A Fluent query on a warm SQLite pool runs without a task, on a connection taken at once
/// (`SQLitePool.withIdleConnection(forWriting:_:)`): it keeps every guarantee of the path that waits.
///
/// Each test warms the tenant's pool first and then runs one query at a time, so the query finds its
/// connection idle and takes the path without a task.
@Suite struct SQLiteFluentIdleConnectionTests {
    /// A condition SQLite needs a second or more to evaluate: keeps a query running.
    static let slowCondition = DatabaseQuery.Filter.sql(unsafeRaw:
        "(WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) SELECT count(*) FROM c) > 0"
    )

    /// The same condition as a statement of its own.
    static let slowSQL = "SELECT count(*) FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) SELECT x FROM c)"

    @Test("a query that fails without a task fails with the error the waiting path gives")
    func failuresAreTheSame() async throws {
        try await withFluent { fixture in
            try await fixture.tenancy.withTenant(.acme) {
                let db = fixture.db()
                try await Note(title: "one").create(on: db)
                let sql = try #require(db as? any SQLDatabase)
                // A write the database refuses (no note 999: a foreign key), through Fluent on the idle
                // writer, and as raw SQL through the async path.
                let fluentWrite = await #expect(throws: SQLiteError.self) {
                    try await Comment(noteID: 999, body: "orphan").create(on: db)
                }
                let asyncWrite = await #expect(throws: SQLiteError.self) {
                    try await sql.raw("INSERT INTO comments (note_id, body) VALUES (999, 'orphan')").run()
                }
                #expect(fluentWrite.map { "\($0)" } == asyncWrite.map { "\($0)" })
                #expect(fluentWrite?.message.contains("FOREIGN KEY") == true)
                // A read of a table that does not exist.
                let fluentRead = await #expect(throws: SQLiteError.self) { try await Ghost.query(on: db).all() }
                let asyncRead = await #expect(throws: SQLiteError.self) { try await sql.raw("SELECT * FROM ghosts").all() }
                #expect(fluentRead.map { "\($0)" } == asyncRead.map { "\($0)" })
                #expect(fluentRead?.message.contains("no such table") == true)
                // The failures gave their connections back.
                #expect(try await Note.query(on: db).all().map(\.title) == ["one"])
                try await Note(title: "two").create(on: db)
            }
        }
    }

    @Test("a write on a pool already leased is refused once another process suspended or destroyed the tenant")
    func anotherProcessesSuspensionAndDestroyAreSeen() async throws {
        try await withFluent { fixture in
            // Another process: its own tenancy on the same storage.
            let other = try FluentFixture(directory: fixture.directory)
            do {
                try await fixture.tenancy.withTenant(.acme) {
                    let db = fixture.db()
                    try await Note(title: "before").create(on: db)
                    try await other.tenancy.suspend(.acme)
                    // The lease is held and the writer idle: the write guard still sees the marker.
                    await expectTenantedError(.tenantSuspended) { try await Note(title: "after").create(on: db) }
                }
                try await other.tenancy.resume(.acme)
                let titles = try await fixture.tenancy.withTenant(.acme) {
                    try await Note.query(on: fixture.db()).all().map(\.title)
                }
                #expect(titles == ["before"])
                try await fixture.tenancy.withTenant(.globex) {
                    let db = fixture.db()
                    try await Note(title: "before").create(on: db)
                    try await other.tenancy.destroyTenant(.globex)
                    await expectTenantedError(.tenantNotFound) { try await Note(title: "after").create(on: db) }
                }
            } catch {
                await other.shutdown()
                throw error
            }
            await other.shutdown()
        }
    }

    @Test("a query whose task is cancelled mid-way gives its connection back: the pool serves the next query, then closes")
    func aCancelledQueryGivesItsConnectionBack() async throws {
        try await withFluent { fixture in
            try await fixture.tenancy.withTenant(.acme) { try await Note(title: "one").create(on: fixture.db()) }
            let slow = Task {
                try await fixture.tenancy.withTenant(.acme) {
                    try await Note.query(on: fixture.db()).filter(Self.slowCondition).all().map(\.title)
                }
            }
            try await Task.sleep(for: .milliseconds(200))
            slow.cancel()
            // A query already handed to SQLite runs to its end (sqlite-nio cannot interrupt one).
            _ = await slow.result
            let titles = try await withGuard("the next read") {
                try await fixture.tenancy.withTenant(.acme) { try await Note.query(on: fixture.db()).all().map(\.title) }
            }
            #expect(titles == ["one"])
            _ = try await withGuard("the next write") {
                try await fixture.tenancy.withTenant(.acme) { try await Note(title: "two").create(on: fixture.db()) }
            }
            // A connection never given back would hold the close forever.
            let closed: Bool? = try await withGuard("closing the pool") {
                try await fixture.tenancy.pools.closing(.acme) { true }
            }
            #expect(closed == true)
        }
    }

    @Test("closing a pool waits for a query running on it without a task")
    func closingWaitsForAQueryInFlight() async throws {
        try await withFluent { fixture in
            // A future the scope does not wait for: the lease ends while the query runs.
            let query: EventLoopFuture<[Note]> = try await fixture.tenancy.withTenant(.acme) {
                try await Note(title: "one").create(on: fixture.db())
                return Note.query(on: fixture.db()).filter(Self.slowCondition).all()
            }
            let completed = Locked(false)
            query.whenComplete { _ in completed.withLock { $0 = true } }
            // The query is still running as the close begins (else this test tests nothing)…
            #expect(completed.withLock { $0 } == false, "the query finished before the pool began to close; make slowCondition slower")
            let closed: Bool? = try await withGuard("closing the pool") {
                try await fixture.tenancy.pools.closing(.acme) { true }
            }
            #expect(closed == true)
            // …and the close did not cut it off: it returns its row.
            let notes = try await query.get()
            #expect(notes.map(\.title) == ["one"])
            #expect(notes.first?.tenant == .acme)

            // The same through the pool itself, where the order is observable: the future the pool
            // waits for completes only after `finished` is set, so a close that waited sees it set.
            let finished = Locked(false)
            let running: EventLoopFuture<Void>? = try await fixture.tenancy.withTenant(.acme) {
                try fixture.tenancy.currentPool(as: SQLitePool.self).withIdleConnection(forWriting: false) { connection in
                    connection.query(Self.slowSQL, [], logger: .silent) { _ in }.map { finished.withLock { $0 = true } }
                }
            }
            let started = try #require(running, "the warm pool had no idle connection")
            #expect(finished.withLock { $0 } == false, "the query finished before the pool began to close; make slowSQL slower")
            let sawFinished: Bool? = try await withGuard("closing the pool") {
                try await fixture.tenancy.pools.closing(.acme) { finished.withLock { $0 } }
            }
            #expect(sawFinished == true)
            try await started.get()
        }
    }
}

/// A model whose table no tenant has.
final class Ghost: Model, @unchecked Sendable {
    static let schema = "ghosts"

    @ID(custom: .id) var id: Int?

    init() {}
}
