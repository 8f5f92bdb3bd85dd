import FluentKit
import Logging
import NIOCore
import SQLKit
import Tenanted
import TenantedFluent
import TenantedFluentSQLite
import TenantedSQLite
import TenantedTestSupport
import Testing

/// Unmodified Fluent code against the routing default database: every entry point, inside a tenant
/// and outside one.
@Suite struct FluentRoutingTests {
    @Test func twoTenantsWithTheSameIDsNeverSeeEachOthersRows() async throws {
        try await withFluent { fixture in
            for (tenant, titles) in [(TenantID.acme, ["a1", "a2", "a3"]), (.globex, ["g1"])] {
                try await fixture.tenancy.withTenant(tenant) {
                    for title in titles { try await Note(title: title).create(on: fixture.db()) }
                }
            }
            for round in 0..<5 {
                let acme = try await fixture.tenancy.withTenant(.acme) {
                    try await Note.query(on: fixture.db()).sort(\.$id).all()
                }
                let globex = try await fixture.tenancy.withTenant(.globex) {
                    try await Note.query(on: fixture.db()).sort(\.$id).all()
                }
                #expect(acme.map(\.title) == ["a1", "a2", "a3"], "round \(round)")
                #expect(globex.map(\.title) == ["g1"], "round \(round)")
                // The same ID names a different row in each tenant.
                #expect(acme.first?.id == 1 && globex.first?.id == 1)
                let one = try await fixture.tenancy.withTenant(.globex) { try await Note.find(1, on: fixture.db()) }
                #expect(one?.title == "g1")
            }
            // Concurrent switching: interleaved scopes keep their own counts.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<40 {
                    let tenant: TenantID = index.isMultiple(of: 2) ? .acme : .globex
                    group.addTask {
                        let count = try await fixture.tenancy.withTenant(tenant) { try await Note.query(on: fixture.db()).count() }
                        #expect(count == (tenant == .acme ? 3 : 1))
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    @Test func createSaveUpdateDeleteAndQueriesRunOnTheCurrentTenant() async throws {
        try await withFluent { fixture in
            try await fixture.tenancy.withTenant(.acme) {
                let db = fixture.db()
                let note = Note(title: "draft")
                try await note.create(on: db)
                #expect(note.id == 1)
                note.title = "final"
                try await note.save(on: db)
                #expect(try await Note.find(1, on: db)?.title == "final")
                try await Note(title: "second").save(on: db)
                #expect(try await Note.query(on: db).filter(\.$title == "second").count() == 1)
                #expect(try await Note.query(on: db).sort(\.$title, .descending).first()?.title == "second")
                try await Note.query(on: db).set(\.$title, to: "bulk").filter(\.$id == 2).update()
                #expect(try await Note.find(2, on: db)?.title == "bulk")
                try await note.delete(on: db)
                #expect(try await Note.query(on: db).count() == 1)
                try await Note.query(on: db).delete()
                #expect(try await Note.query(on: db).count() == 0)
            }
            let globexCount = try await fixture.tenancy.withTenant(.globex) { try await Note.query(on: fixture.db()).count() }
            #expect(globexCount == 0)
        }
    }

    @Test func transactionsCommitAndRollBackOnTheTenant() async throws {
        try await withFluent { fixture in
            try await fixture.tenancy.withTenant(.acme) {
                let db = fixture.db()
                try await db.transaction { tx in
                    #expect(tx.inTransaction)
                    try await Note(title: "kept").create(on: tx)
                    // A nested transaction joins the outer one.
                    try await tx.transaction { nested in try await Note(title: "kept too").create(on: nested) }
                }
                struct Abort: Error {}
                await #expect(throws: Abort.self) {
                    try await db.transaction { tx in
                        try await Note(title: "rolled back").create(on: tx)
                        try await Comment(noteID: 1, body: "rolled back").create(on: tx)
                        #expect(try await Note.query(on: tx).count() == 3)
                        throw Abort()
                    }
                }
                #expect(try await Note.query(on: db).all().map(\.title).sorted() == ["kept", "kept too"])
                #expect(try await Comment.query(on: db).count() == 0)
            }
            let globex = try await fixture.tenancy.withTenant(.globex) { try await Note.query(on: fixture.db()).count() }
            #expect(globex == 0)
        }
    }

    @Test func withConnectionRawSQLAndEagerLoadingWork() async throws {
        try await withFluent { fixture in
            try await fixture.tenancy.withTenant(.acme) {
                let db = fixture.db()
                let count = try await db.withConnection { connection in
                    try await Note(title: "pinned").create(on: connection)
                    return try await Note.query(on: connection).count()
                }
                #expect(count == 1)
                try await Comment(noteID: 1, body: "first").create(on: db)
                try await Comment(noteID: 1, body: "second").create(on: db)

                let sql = try #require(db as? any SQLDatabase)
                let rows = try await sql.raw("SELECT title FROM notes WHERE id = \(bind: 1)").all(decoding: TitleRow.self)
                #expect(rows.map(\.title) == ["pinned"])
                try await sql.raw("INSERT INTO notes (title) VALUES (\(bind: "raw"))").run()
                #expect(try await Note.query(on: db).count() == 2)

                let loaded = try #require(try await Note.query(on: db).with(\.$comments).filter(\.$id == 1).first())
                #expect(loaded.comments.map(\.body).sorted() == ["first", "second"])
                let comment = try #require(try await Comment.query(on: db).with(\.$note).first())
                #expect(comment.note.title == "pinned")
                // Lazy relation loading goes through the same database.
                #expect(try await loaded.$comments.query(on: db).count() == 2)
            }
        }
    }

    @Test func modelMiddlewareRegisteredOnTheRoutingIDRuns() async throws {
        try await withFluent { fixture in
            let seen = Locked<[String]>([])
            fixture.databases.middleware.use(TitleStamp(seen: seen), on: .tenanted)
            try await fixture.tenancy.withTenant(.acme) {
                let note = Note(title: "x")
                try await note.create(on: fixture.db())
                #expect(note.title == "x (stamped)")
                #expect(try await Note.find(note.id, on: fixture.db())?.title == "x (stamped)")
            }
            #expect(seen.value == ["create acme"])
        }
    }

    @Test func everyEntryPointFailsWithNoTenantOutsideAScope() async throws {
        try await withFluent { fixture in
            let db = fixture.db()
            #expect((db as? any TenantBoundDatabase)?.tenant == nil)
            await expectTenantedError(.noTenant) { _ = try await Note.query(on: db).all() }
            await expectTenantedError(.noTenant) { _ = try await Note.query(on: db).count() }
            await expectTenantedError(.noTenant) { _ = try await Note.find(1, on: db) }
            await expectTenantedError(.noTenant) { _ = try await Note(title: "x").create(on: db) }
            await expectTenantedError(.noTenant) { _ = try await Note.query(on: db).delete() }
            await expectTenantedError(.noTenant) { _ = try await db.transaction { _ in 1 } }
            await expectTenantedError(.noTenant) { _ = try await db.withConnection { _ in 1 } }
            await expectTenantedError(.noTenant) { _ = try await db.schema("notes").delete() }
            let sql = try #require(db as? any SQLDatabase)
            await expectTenantedError(.noTenant) { _ = try await sql.raw("SELECT 1").run() }
            // Nothing was written anywhere: both tenants are still empty.
            for tenant in [TenantID.acme, .globex] {
                #expect(try await fixture.tenancy.withTenant(tenant) { try await Note.query(on: fixture.db()).count() } == 0)
            }
        }
    }

    @Test func aQueryFromAnEventLoopCallbackRoutesByTheLoggersTenant() async throws {
        try await withFluent { fixture in
            try await fixture.tenancy.withTenant(.globex) { try await Note(title: "g").create(on: fixture.db()) }
            let tagged = Logger.tagged("globex")
            // No task-local in an event-loop callback: only the logger says which tenant.
            let titles = try await fixture.eventLoop.flatSubmit {
                #expect(Tenant.current == nil)
                return Note.query(on: fixture.db(logger: tagged)).all().map { $0.map(\.title) }
            }.get()
            #expect(titles == ["g"])
            try await fixture.eventLoop.flatSubmit {
                Note(title: "from callback").create(on: fixture.db(logger: tagged))
            }.get()
            #expect(try await fixture.tenancy.withTenant(.globex) { try await Note.query(on: fixture.db()).count() } == 2)
            #expect(try await fixture.tenancy.withTenant(.acme) { try await Note.query(on: fixture.db()).count() } == 0)

            // Neither a task-local nor a tagged logger: noTenant.
            let untagged = fixture.eventLoop.flatSubmit { Note.query(on: fixture.db()).count() }
            await expectTenantedError(.noTenant) { _ = try await untagged.get() }
        }
    }

    @Test func aLoggerNamingABadOrUnknownTenantFailsClosed() async throws {
        try await withFluent { fixture in
            for (name, code) in [("../acme", TenantedError.Code.badTenantName), ("ACME", .badTenantName), ("", .badTenantName), ("initech", .tenantNotFound)] {
                let db = fixture.db(logger: .tagged(name))
                await expectTenantedError(code) { _ = try await Note.query(on: db).count() }
                await expectTenantedError(code) { _ = try await Note(title: "x").create(on: db) }
            }
            #expect(!fixture.directory.exists("storage/tenants/initech"))
            let tenants = try await fixture.tenancy.tenants()
            #expect(tenants == [.acme, .globex])
        }
    }

    @Test func theTaskLocalWinsOverTheLogger() async throws {
        try await withFluent { fixture in
            let tagged = Logger.tagged("globex")
            try await fixture.tenancy.withTenant(.acme) {
                let db = fixture.db(logger: tagged)
                #expect((db as? any TenantBoundDatabase)?.tenant == .acme)
                try await Note(title: "a").create(on: db)
            }
            #expect(try await fixture.tenancy.withTenant(.acme) { try await Note.query(on: fixture.db()).count() } == 1)
        }
    }

    @Test func aTaskThatOutlivesItsScopeLeasesTheTenantPerOperation() async throws {
        try await withFluent { fixture in
            let escaped = try await fixture.tenancy.withTenant(.acme) {
                Task { try await Note(title: "later").create(on: fixture.db()) }
            }
            try await escaped.value
            #expect(try await fixture.tenancy.withTenant(.acme) { try await Note.query(on: fixture.db()).count() } == 1)
        }
    }

    @Test func writingThroughTheRoutedDatabaseInsideATransactionFailsInsteadOfDeadlocking() async throws {
        try await withFluent { fixture in
            try await fixture.tenancy.withTenant(.acme) {
                let db = fixture.db()
                let outcome = try await withGuard("a write through req.db inside a transaction") {
                    await Result(catching: {
                        try await db.transaction { _ in
                            // A mistake: `db` instead of the transaction's database. Reads still work.
                            _ = try await Note.query(on: db).count()
                            try await Note(title: "outside the transaction").create(on: db)
                        }
                    })
                }
                guard case .failure(let error as TenantedError)? = outcome else {
                    Issue.record("expected a TenantedError, got \(String(describing: outcome))")
                    return
                }
                #expect(error.code == .misuse)
                #expect(error.message.contains("use the database that closure was given"))
                #expect(try await Note.query(on: db).count() == 0)
            }
        }
    }
}

struct TitleRow: Decodable {
    let title: String
}

/// Appends " (stamped)" to a note's title on create and records the tenant it ran in.
struct TitleStamp: AsyncModelMiddleware {
    let seen: Locked<[String]>

    func create(model: Note, on db: any Database, next: any AnyAsyncModelResponder) async throws {
        model.title += " (stamped)"
        seen.append("create \((db as? any TenantBoundDatabase)?.tenant.map { "\($0)" } ?? "none")")
        try await next.create(model, on: db)
    }
}

extension Logger {
    /// A silent logger whose `tenant` metadata is `name`, as Tenanted's middleware tags `req.logger`.
    static func tagged(_ name: String) -> Logger {
        var logger = Logger.silent
        logger[metadataKey: "tenant"] = .string(name)
        return logger
    }
}
