// This file mirrors the README's "Tenanted in a Hummingbird app" in process: every line of its
// Swift blocks is here, in order, and runs as written; the last test fails when a README line is
// missing. A line that must differ carries its README form in a trailing `// README: `...``
// comment (`fileprivate`, so the README's names do not collide with the tests', and a temporary
// storage root instead of "storage").

import ArgumentParser
import Foundation
import Hummingbird
import HummingbirdTesting
import SQLiteNIO
import Tenanted
import TenantedHummingbird
import TenantedSQLite
import TenantedTestSupport
import Testing

fileprivate let schema = try! SQLiteMigrator([  // README: `let schema = try SQLiteMigrator([`
    .init(name: "create_notes", statements: ["CREATE TABLE notes (title TEXT NOT NULL)"], revert: ["DROP TABLE notes"]),
])

fileprivate func buildApplication(storage: String, configuration: ApplicationConfiguration = .init()) throws -> some ApplicationProtocol {  // README: `func buildApplication(storage: String, configuration: ApplicationConfiguration = .init()) throws -> some ApplicationProtocol {`
    let tenancy = try Tenancy(store: try SQLiteStore(configuration: .init(root: storage)), migrator: schema)
    let router = Router(context: BasicTenantRequestContext.self)      // or your context: TenantRequestContext
    router.get("health") { _, _ in "ok" }                               // untenanted
    let notes = router.group("notes")                                   // the middleware first, then the routes
        .add(middleware: TenantMiddleware(tenancy: tenancy, resolver: try .subdomain(of: "example.com")))
    notes.get { _, context in
        try await context.tenantPool(as: SQLitePool.self).read { connection in
            try await connection.query("SELECT title FROM notes").compactMap { $0.column("title")?.string }
        }
    }
    notes.post { request, context in
        let title = String(buffer: try await request.body.collect(upTo: 1024))
        try await context.tenantPool(as: SQLitePool.self).write { connection in
            _ = try await connection.query("INSERT INTO notes (title) VALUES (?)", [.text(title)])
        }
        return Response(status: .created)
    }
    return Application(router: router, configuration: configuration, services: [tenancy])  // graceful shutdown closes every pool
}

fileprivate enum AppTenancy: TenancyProvider {  // README: `enum AppTenancy: TenancyProvider {`
    @TaskLocal static var root = "storage"

    static func withTenancy(_ body: (Tenancy) async throws -> Void) async throws {
        let tenancy = try Tenancy(store: try SQLiteStore(configuration: .init(root: root)), migrator: schema)  // README: `let tenancy = try Tenancy(store: try SQLiteStore(configuration: .init(root: "storage")), migrator: schema)`
        do { try await body(tenancy) } catch { await tenancy.shutdown(); throw error }
        await tenancy.shutdown()
    }
}

fileprivate struct App: AsyncParsableCommand {  // README: `@main struct App: AsyncParsableCommand {`
    static let configuration = CommandConfiguration(subcommands: [Serve.self, TenantsCommand<AppTenancy>.self], defaultSubcommand: Serve.self)
    static func main() async { await mainReportingTenantsFailures() }  // a `tenants` usage error: one line, status 1
}

fileprivate struct Serve: AsyncParsableCommand {  // README: `struct Serve: AsyncParsableCommand {`
    func run() async throws { try await buildApplication(storage: "storage").runService() }
}

@Suite("README: Tenanted in a Hummingbird app")
struct ReadmeHummingbirdTests {
    let directory = try! TemporaryDirectory()

    @Test("the section runs as written: tenants made by the commands, isolated over HTTP, no tenant is a 404")
    func section() async throws {
        for name in ["acme", "globex"] {
            let command = try App.parseAsRoot(["tenants", "create", name])
            try await AppTenancy.$root.withValue(directory.path) {
                guard var command = command as? any AsyncParsableCommand else { Issue.record("not async"); return }
                try await command.run()
            }
        }
        let app = try buildApplication(storage: directory.path, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let created = try await send(client, "POST", "/notes", host: "acme.example.com", body: "hi")
            #expect(created.status == 201)
            let acme = try await send(client, "GET", "/notes", host: "acme.example.com")
            #expect(acme.body == #"["hi"]"#)
            let globex = try await send(client, "GET", "/notes", host: "globex.example.com")
            #expect(globex.body == "[]")
            for host in ["example.com", "initech.example.com", "ACME..example.com"] {
                let response = try await send(client, "GET", "/notes", host: host)
                #expect(response.status == 404, "\(host)")
            }
            #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
        }
        #expect(directory.exists("storage/tenants/acme/main.sqlite3"))
    }

    @Test("every line of the README section's Swift blocks appears in this file, in order")
    func readmeMatches() throws {
        let here = URL(fileURLWithPath: #filePath)
        let readme = try String(
            contentsOf: here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("README.md"),
            encoding: .utf8
        )
        let section = DocumentMirror.section("## Tenanted in a Hummingbird app", of: readme)
        #expect(DocumentMirror.swiftBlocks(in: section).count == 2, "the section has 2 Swift blocks; update this file when that changes")
        let missing = DocumentMirror.missingLines(of: section, in: try String(contentsOf: here, encoding: .utf8), marker: "README")
        #expect(missing.isEmpty, "README lines not in ReadmeHummingbirdTests.swift (in order): \(missing)")
    }
}
