// This file mirrors the README's "Five-minute tutorial: Tenanted in a Vapor app" in process: every
// line of its code blocks (all but the first, the Package.swift) is here, in order, and the tutorial
// runs as written; the last test fails when a README line is missing. A line that must differ
// carries its README form in a trailing `// README: `...`` comment (`fileprivate`, so the README's
// names do not collide with the demo's). TutorialAppTests builds the same blocks as a separate app
// with exactly the README's package and import lines.

import Fluent
import FluentKit
import Foundation
import Tenanted
import TenantedFluent
import TenantedFluentSQLite
import TenantedSQLite
import TenantedTestSupport
import TenantedVapor
import Testing
import Vapor
import VaporTesting

// MARK: README tutorial block 2: models and migrations

fileprivate final class Note: Model, Content, @unchecked Sendable {  // README: `final class Note: Model, Content, @unchecked Sendable {`
    static let schema = "notes"

    @ID(key: .id) var id: UUID?
    @Field(key: "title") var title: String
    @TenantOrigin var tenant: TenantID?

    init() {}
}

fileprivate struct CreateNote: AsyncMigration {  // README: `struct CreateNote: AsyncMigration {`
    func prepare(on database: any Database) async throws {
        try await database.schema("notes").id().field("title", .string, .required).create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("notes").delete()
    }
}

// MARK: README tutorial block 3: configure

fileprivate func configure(_ app: Application) async throws {  // README: `func configure(_ app: Application) async throws {`
    let migrations = TenantMigrations()
    migrations.add(CreateNote())
    let tenancy = try Tenancy(store: try SQLiteStore(configuration: .init(root: app.directory.workingDirectory)), migrations: migrations)
    try app.tenanted.use(tenancy)                                  // req.db is now the request's tenant
    app.asyncCommands.use(TenantsCommand(), as: "tenants")     // swift run App tenants …

    let tenanted = app.grouped(TenantMiddleware(resolver: try .subdomain(of: "example.com")))
    tenanted.get("notes") { req in try await Note.query(on: req.db).all() }
    tenanted.post("notes") { req in
        let note = try req.content.decode(Note.self)
        try await note.create(on: req.db)                      // acme.example.com → acme's database
        return note
    }
}

@Suite("README: the Vapor tutorial")
struct ReadmeTutorialTests {
    let directory = try! TemporaryDirectory()

    @Test("the tutorial runs as written: two tenants, isolated; no tenant is a 404")
    func tutorial() async throws {
        let app = try await Application.make(.testing)
        app.directory = DirectoryConfiguration(workingDirectory: directory.path + "/")
        app.logger = .silent
        do {
            try await configure(app)
            // MARK: README tutorial block 4: create a tenant
            try await app.tenanted.requireTenancy().createTenant(TenantID("acme"))   // database + migrations, all or nothing
            try await app.tenanted.requireTenancy().createTenant(TenantID("globex"))

            try await app.testing().test(.POST, "notes", headers: ["Host": "acme.example.com", "Content-Type": "application/json"], body: .init(string: #"{"title": "hi"}"#)) { response async in
                #expect(response.status == .ok)
                #expect((try? response.content.get(String.self, at: "tenant")) == "acme")
            }
            try await app.testing().test(.GET, "notes", headers: ["Host": "acme.example.com"]) { response async in
                #expect((try? response.content.decode([[String: String?]].self))?.count == 1)
            }
            try await app.testing().test(.GET, "notes", headers: ["Host": "globex.example.com"]) { response async in
                #expect((try? response.content.decode([[String: String?]].self))?.count == 0)
            }
            for host in ["example.com", "initech.example.com", "ACME..example.com"] {
                try await app.testing().test(.GET, "notes", headers: ["Host": host]) { response async in
                    #expect(response.status == .notFound, "\(host)")
                }
            }
            #expect(directory.exists("storage/tenants/acme/main.sqlite3"))
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
    }

    @Test("every line of the README tutorial's code blocks appears in this file, in order")
    func readmeMatches() throws {
        let here = URL(fileURLWithPath: #filePath)
        let readme = try String(
            contentsOf: here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("README.md"),
            encoding: .utf8
        )
        let tutorial = DocumentMirror.section("## Five-minute tutorial: Tenanted in a Vapor app", of: readme)
        #expect(DocumentMirror.swiftBlocks(in: tutorial).count == 4, "the tutorial has 4 Swift blocks; update this file when that changes")
        // Block 1 is the app's Package.swift, which only TutorialAppTests can mirror.
        let missing = DocumentMirror.missingLines(of: tutorial, in: try String(contentsOf: here, encoding: .utf8), marker: "README")
            .filter { !$0.hasPrefix("block 1:") }
        #expect(missing.isEmpty, "tutorial lines not in ReadmeTutorialTests.swift (in order): \(missing)")
    }
}
