// This file mirrors the DocC article "Using Tenanted with Fluent"
// (Sources/TenantedFluent/Documentation.docc/UsingTenantedWithFluent.md): every line of its Swift
// blocks is here, in order, so the article cannot drift from the API; the last test fails when an
// article line is missing. A line that must differ carries the article's form in a trailing
// `// Article: `...`` comment; `#expect` lines are extra.

import FluentKit
import FluentSQLiteDriver
import Foundation
import Logging
import NIOCore
import NIOPosix
import Tenanted
import TenantedFluent
import TenantedFluentSQLite
import TenantedSQLite
import TenantedTestSupport
import Testing

// MARK: Article block 1: models and a tenant migration

final class Project: Model, @unchecked Sendable {
    static let schema = "projects"

    @ID(key: .id) var id: UUID?
    @Field(key: "name") var name: String
    @OptionalField(key: "account_id") var accountID: UUID?   // an Account in the shared database
    @TenantOrigin var tenant: TenantID?                     // the tenant it was read from

    init() {}
    init(name: String, accountID: UUID? = nil) {
        self.name = name
        self.accountID = accountID
    }
}

struct CreateProject: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("projects").id()
            .field("name", .string, .required)
            .field("account_id", .uuid)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("projects").delete()
    }
}

// MARK: Article block 6 (declarations): the shared database's ID

extension DatabaseID {
    static let shared = DatabaseID(string: "shared")
}

@Suite("DocC article: Using Tenanted with Fluent")
struct FluentArticleTests {
    private let directory = try! TemporaryDirectory()

    @Test("the article's code runs as written")
    func article() async throws {
        let logger = Logger.silent
        let eventLoop = MultiThreadedEventLoopGroup.singleton.any()
        let root = directory.path

        // MARK: Article block 2: setup
        let migrations = TenantMigrations()
        migrations.add(CreateProject())

        let tenancy = try Tenancy(
            store: try SQLiteStore(configuration: .init(root: root)),  // Article: `store: try SQLiteStore(configuration: .init(root: "/var/lib/projects")),`
            migrations: migrations
        )
        let databases = Databases(threadPool: .singleton, on: MultiThreadedEventLoopGroup.singleton)  // Vapor: app.databases
        databases.use(.tenanted(tenancy), as: .tenanted, isDefault: true)

        // MARK: Article block 3: create a tenant, use it
        let acme = try TenantID("acme")
        try await tenancy.createTenant(acme)          // creates acme's database and runs CreateProject in it

        let projects = try await tenancy.withTenant(acme) {
            let db = databases.database(logger: logger, on: eventLoop)!   // Vapor: req.db
            try await Project(name: "Launch").create(on: db)
            return try await Project.query(on: db).all()                  // acme's projects, nobody else's
        }
        #expect(projects.map(\.name) == ["Launch"])

        // MARK: Article block 4: transactions
        try await tenancy.withTenant(acme) {
            let db = databases.database(logger: logger, on: eventLoop)!
            try await db.transaction { tx in
                try await Project(name: "Draft").create(on: tx)           // tx, not db, inside the closure
                try await Project(name: "Review").create(on: tx)
            }
        }
        let count = try await tenancy.withTenant(acme) { try await Project.query(on: databases.database(logger: logger, on: eventLoop)!).count() }
        #expect(count == 3)

        // MARK: Article block 5: migrating every tenant
        let report = try await tenancy.migrateAll(maximumConcurrency: 4) { progress in
            logger.info("migrated \(progress.completed)/\(progress.total): \(progress.latest.tenant)")
        }
        for failure in report.failures {
            logger.error("\(failure.tenant): \(failure.error!)")
        }
        let status = try await tenancy.migrationStatus(acme)     // applied and pending migration names
        // exit(report.exitStatus)                               // non-zero when any tenant failed
        #expect(report.succeeded && report.current.map(\.tenant) == [acme])
        #expect(status.applied == [CreateProject().name] && status.pending.isEmpty)

        // MARK: Article block 6: the shared database
        databases.use(.sqlite(.file("\(root)/shared.sqlite")), as: .shared, isDefault: false)  // Article: `databases.use(.sqlite(.file("shared.sqlite")), as: .shared, isDefault: false)`
        let shared = databases.database(.shared, logger: logger, on: eventLoop)!   // Vapor: req.db(.shared)
        try await CreateAccounts().prepare(on: shared)
        let account = Account(name: "Acme Corp")
        try await account.create(on: shared)
        let launch = try await tenancy.withTenant(acme) {
            let db = databases.database(logger: logger, on: eventLoop)!
            let launch = try await Project.query(on: db).filter(\.$name == "Launch").first()!
            launch.accountID = account.id
            try await launch.save(on: db)
            return launch
        }
        let owner = try await Account.find(launch.accountID, on: shared)
        #expect(owner?.name == "Acme Corp")

        // MARK: Article block 7: which tenant a record came from
        let reference = try GlobalRecordID(launch, app: "projects")
        let payload = reference.description      // "gid://projects/Project/<id>?tenant=acme"
        let id = try GlobalRecordID<Project>(parsing: payload)
        let found = try await tenancy.withTenant(id.tenant) {
            try await id.find(on: databases.database(logger: logger, on: eventLoop)!)
        }
        #expect(launch.tenant == acme)
        #expect(found?.name == "Launch")
        #expect(payload.hasSuffix("?tenant=acme"))

        await databases.shutdownAsync()          // shuts the tenancy down too, as its driver was used
        await tenancy.shutdown()                 // idempotent; needed when the driver never was
    }

    @Test("every line of every Swift block in the article appears in this file, in order")
    func articleMatches() throws {
        let here = URL(fileURLWithPath: #filePath)
        let root = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let article = try String(
            contentsOf: root.appendingPathComponent("Sources/TenantedFluent/Documentation.docc/UsingTenantedWithFluent.md"),
            encoding: .utf8
        )
        #expect(DocumentMirror.swiftBlocks(in: article).count == 7, "the article has 7 Swift blocks; update this file when that changes")
        let missing = DocumentMirror.missingLines(of: article, in: try String(contentsOf: here, encoding: .utf8), marker: "Article")
        #expect(missing.isEmpty, "article lines not in FluentArticleTests.swift (in order): \(missing)")
    }
}
