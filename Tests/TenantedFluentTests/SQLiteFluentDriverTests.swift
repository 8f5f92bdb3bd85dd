import FluentKit
import SQLKit
import SQLiteNIO
import Tenanted
import TenantedFluent
import TenantedFluentSQLite
import TenantedSQLite
import TenantedTestSupport
import Testing

/// Tenanted's Fluent driver over `SQLitePool`: readers beside the writer, SQLite's ALTER limits.
@Suite struct SQLiteFluentDriverTests {
    @Test func readsRunOnReadersWhileATransactionHoldsTheWriter() async throws {
        try await withFluent { fixture in
            try await fixture.tenancy.withTenant(.acme) {
                try await Note(title: "committed").create(on: fixture.db())
                let inside = Gate()
                let release = Gate()
                let writer = Task {
                    try await fixture.tenancy.withTenant(.acme) {
                        try await fixture.db().transaction { tx in
                            try await Note(title: "uncommitted").create(on: tx)
                            inside.open()
                            await release.wait()
                        }
                    }
                }
                await inside.wait()
                // The writer is held; a read does not wait for it and sees only committed rows.
                let titles = try await withGuard("a read while the writer is held") {
                    try await fixture.tenancy.withTenant(.acme) { try await Note.query(on: fixture.db()).all().map(\.title) }
                }
                #expect(titles == ["committed"])
                // A reader refuses writes (query_only), so a write can never slip onto one.
                let readerRefusesWrites = try await fixture.tenancy.currentPool(as: SQLitePool.self).read { connection in
                    do {
                        _ = try await connection.query("INSERT INTO notes (title) VALUES ('sneaky')")
                        return false
                    } catch {
                        return true
                    }
                }
                #expect(readerRefusesWrites)
                release.open()
                try await writer.value
                #expect(try await Note.query(on: fixture.db()).count() == 2)
            }
        }
    }

    @Test func anAlterSQLiteCannotDoFailsWithAClearErrorAndChangesNothing() async throws {
        try await withFluent { fixture in
            try await fixture.tenancy.withTenant(.acme) {
                let db = fixture.db()
                let error = await #expect(throws: TenantedError.self) {
                    try await db.schema(Note.schema).updateField("title", .int).update()
                }
                #expect(error?.code == .storeFailure)
                #expect(error?.message.contains("only add or drop columns") == true)
                // Adding a column works.
                try await db.schema(Note.schema).field("archived", .bool).update()
                try await (db as! any SQLDatabase).raw("UPDATE notes SET archived = 1").run()
            }
        }
    }
}
