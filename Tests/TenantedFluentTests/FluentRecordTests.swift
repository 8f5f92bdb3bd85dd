import FluentKit
import Foundation
import Logging
import Tenanted
import TenantedFluent
import TenantedFluentSQLite
import TenantedSQLite
import TenantedTestSupport
import Testing

/// Which tenant a model came from, the wrong-tenant guard, and cross-tenant references.
@Suite struct FluentRecordTests {
    @Test func loadedAndCreatedModelsKnowTheirTenant() async throws {
        try await withFluent { fixture in
            let created = Note(title: "a")
            #expect(created.tenant == nil)
            try await fixture.tenancy.withTenant(.acme) {
                try await created.create(on: fixture.db())
                try await Comment(noteID: 1, body: "c").create(on: fixture.db())
            }
            #expect(created.tenant == .acme)
            try await fixture.tenancy.withTenant(.globex) { try await Note(title: "g").create(on: fixture.db()) }

            let (found, eager) = try await fixture.tenancy.withTenant(.acme) {
                let found = try await Note.find(1, on: fixture.db())
                let eager = try await Comment.query(on: fixture.db()).with(\.$note).first()
                return (found, eager)
            }
            #expect(found?.tenant == .acme)
            #expect(eager?.tenant == .acme)
            #expect(eager?.note.tenant == .acme)
            let globex = try await fixture.tenancy.withTenant(.globex) { try await Note.find(1, on: fixture.db()) }
            #expect(globex?.tenant == .globex)

            // The logger-routed database tags rows too.
            let viaLogger = try await Note.find(1, on: fixture.db(logger: .tagged("globex")))
            #expect(viaLogger?.tenant == .globex && viaLogger?.title == "g")
        }
    }

    @Test func theTenantIsEncodedButNeverDecoded() async throws {
        try await withFluent { fixture in
            let note = try await fixture.tenancy.withTenant(.acme) {
                let note = Note(title: "json")
                try await note.create(on: fixture.db())
                return note
            }
            let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(note)) as? [String: Any]
            #expect(json?["tenant"] as? String == "acme")
            #expect(json?["title"] as? String == "json")

            // A client claiming a tenant in a request body gets nothing.
            let claimed = try JSONDecoder().decode(Note.self, from: Data(#"{"title": "x", "tenant": "globex"}"#.utf8))
            #expect(claimed.tenant == nil)
        }
    }

    @Test func savingOrDeletingAModelOfAnotherTenantIsRefused() async throws {
        try await withFluent { fixture in
            let note = try await fixture.tenancy.withTenant(.acme) {
                try await Note(title: "acme's").create(on: fixture.db())
                return try #require(try await Note.find(1, on: fixture.db()))
            }
            try await fixture.tenancy.withTenant(.globex) {
                try await Note(title: "globex's").create(on: fixture.db())
                note.title = "overwritten?"
                await expectTenantedError(.wrongTenant) { try await note.save(on: fixture.db()) }
                await expectTenantedError(.wrongTenant) { try await note.update(on: fixture.db()) }
                await expectTenantedError(.wrongTenant) { try await note.delete(on: fixture.db()) }
                await expectTenantedError(.wrongTenant) {
                    try await fixture.db().transaction { tx in try await note.save(on: tx) }
                }
                #expect(try await Note.find(1, on: fixture.db())?.title == "globex's")
            }
            // Back in its own tenant the same instance saves.
            try await fixture.tenancy.withTenant(.acme) {
                try await note.save(on: fixture.db())
                #expect(try await Note.find(1, on: fixture.db())?.title == "overwritten?")
            }
        }
    }

    /// Each model type's guard is registered by the type's first instance; a database made before
    /// that still guards the type, because it reads the guards at each model event.
    @Test func aModelTypeFirstUsedAfterItsDatabaseWasMadeIsGuardedToo() async throws {
        try await withFluent { fixture in
            try await fixture.tenancy.withTenant(.globex) {
                let globexDB = fixture.db()
                let note = try await fixture.tenancy.withTenant(.acme) {
                    let note = FirstUsedLateNote(title: "acme's")
                    try await note.create(on: fixture.db())
                    return note
                }
                #expect(note.tenant == .acme)
                note.title = "overwritten?"
                await expectTenantedError(.wrongTenant) { try await note.save(on: globexDB) }
                await expectTenantedError(.wrongTenant) { try await note.delete(on: globexDB) }
                #expect(try await Note.query(on: globexDB).count() == 0)
            }
        }
    }

    @Test func aGlobalRecordIDRoundTripsThroughItsStringAndCodable() async throws {
        try await withFluent { fixture in
            let note = try await fixture.tenancy.withTenant(.globex) {
                try await Note(title: "first").create(on: fixture.db())
                let note = Note(title: "second")
                try await note.create(on: fixture.db())
                return note
            }
            let reference = try GlobalRecordID(note, app: "notes")
            #expect(reference.description == "gid://notes/Note/2?tenant=globex")
            #expect(try GlobalRecordID<Note>(parsing: reference.description) == reference)
            #expect(GlobalRecordID<Note>("gid://notes/Note/2?x=y&tenant=globex") == reference)

            struct Job: Codable { let note: GlobalRecordID<Note> }
            let data = try JSONEncoder().encode(Job(note: reference))
            #expect(String(decoding: data, as: UTF8.self) == #"{"note":"gid:\/\/notes\/Note\/2?tenant=globex"}"#)
            let decoded = try JSONDecoder().decode(Job.self, from: data).note
            #expect(decoded == reference)

            let found = try await fixture.tenancy.withTenant(.globex) { try await decoded.find(on: fixture.db()) }
            #expect(found?.title == "second")
            // Same ID, other tenant: refused, not a silent read of acme's row 2.
            await expectTenantedError(.wrongTenant) {
                _ = try await fixture.tenancy.withTenant(.acme) { try await decoded.find(on: fixture.db()) }
            }
            await expectTenantedError(.noTenant) { _ = try await decoded.find(on: fixture.db()) }
            // A reference to a tenant that has since been destroyed.
            let gone = try GlobalRecordID<Note>(app: "notes", tenant: TenantID("initech"), id: 1)
            await expectTenantedError(.tenantNotFound) { _ = try await gone.find(on: fixture.db(logger: .tagged("initech"))) }
            // String IDs and UUIDs are percent-encoded in the path.
            let odd = try GlobalRecordID<Account>(app: "notes", tenant: .acme, id: UUID(uuidString: "E621E1F8-C36C-495A-93FC-0C247A3E6E5F")!)
            #expect(odd.description == "gid://notes/Account/E621E1F8-C36C-495A-93FC-0C247A3E6E5F?tenant=acme")
        }
    }

    @Test(arguments: [
        ("", TenantedError.Code.badReference),
        ("http://notes/Note/1?tenant=acme", .badReference),
        ("gid://notes/Note/1", .badReference),
        ("gid://notes/Note/1?tenant=", .badTenantName),
        ("gid://notes/Note/1?tenant=../etc", .badTenantName),
        ("gid://notes/Note/1?tenant=ACME", .badTenantName),
        ("gid://notes/Note/1?tenant=ac%00me", .badTenantName),
        ("gid://notes/Comment/1?tenant=acme", .badReference),
        ("gid://notes/Note/one?tenant=acme", .badReference),
        ("gid://notes/Note/?tenant=acme", .badReference),
        ("gid://notes/Note/1/2?tenant=acme", .badReference),
        ("gid://no tes/Note/1?tenant=acme", .badReference),
        ("gid:///Note/1?tenant=acme", .badReference),
        ("gid://notes/Note/1?tenant=acme" + String(repeating: "x", count: 3_000), .badReference),
    ])
    func malformedReferencesAreRefusedWithAClearError(input: String, code: TenantedError.Code) {
        #expect(throws: TenantedError.self) { try GlobalRecordID<Note>(parsing: input) }
        do {
            _ = try GlobalRecordID<Note>(parsing: input)
        } catch {
            #expect(error.code == code, "\(error)")
            #expect(!error.description.contains("../etc"), "the message does not echo raw input")
        }
        #expect(GlobalRecordID<Note>(input) == nil)
        let json = Data("\"\(input.replacingOccurrences(of: "\0", with: ""))\"".utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(GlobalRecordID<Note>.self, from: json) }
    }

    @Test func aReferenceNeedsASavedRecordOfATenant() async throws {
        await expectTenantedError(.misuse) { _ = try GlobalRecordID(Note(title: "unsaved"), app: "notes") }
        await expectTenantedError(.invalidConfiguration) { _ = try GlobalRecordID<Note>(app: "", tenant: .acme, id: 1) }
        await expectTenantedError(.invalidConfiguration) { _ = try GlobalRecordID<Note>(app: "no/tes", tenant: .acme, id: 1) }
    }
}
