// README tutorial block 3, with the imports the README shows, and two lines of the test's own:
// TUTORIAL_NEW_MIGRATION plays the tutorial's "after adding a migration" step without a rebuild,
// TUTORIAL_MISPLACED_MIGRATION a newcomer's mistake, a tenant migration on app.migrations.
import Fluent
import TenantedVapor
import Vapor

func configure(_ app: Application) async throws {
    let migrations = TenantMigrations()
    migrations.add(CreateNote())
    if Environment.get("TUTORIAL_NEW_MIGRATION") != nil { migrations.add(CreateTag()) }
    if Environment.get("TUTORIAL_MISPLACED_MIGRATION") != nil { app.migrations.add(CreateTag()) }
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
    signUp(app)
}
