// This file mirrors README.md: every Swift code block of the README is here, as written, so the
// README cannot drift from the API. Change both together: the last test below fails when a README
// line is missing here. A line that must differ carries its README form in a trailing
// `// README: `...`` comment (a temporary root instead of a fixed path, and `fileprivate` so the
// README's names cannot collide with other tests in this module); `#expect` lines are extra.

import TenantedTestSupport
import Foundation
import SQLiteNIO
import Tenanted
import TenantedSQLite
import Testing

// MARK: README block 1: "Define the tenant schema once"

/// The tenant schema: named migrations, applied in order, each once.
fileprivate let schema = SQLiteMigrator(valid: [  // README: `let schema = try SQLiteMigrator([`
    .init(name: "create_notes", statements: ["CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"]),
])

// MARK: The tests

@Suite("README examples")
struct ReadmeQuickStartTests {
    /// A fresh directory per test (Swift Testing makes one suite instance per test).
    private let directory = ReadmeDirectory()

    @Test("the quick start runs as written: create, query in a tenant scope, list, destroy")
    func quickStart() async throws {
        // MARK: README block 2: "Quick start"
        let tenancy = try Tenancy(
            store: try SQLiteStore(configuration: .init(root: directory.path)),  // README: `store: try SQLiteStore(configuration: .init(root: "/var/lib/notes")),`
            migrator: schema
        )
        let acme = try TenantID("acme")                // validated: a-z, 0-9, '-' and '_'
        try await tenancy.createTenant(acme)          // create the file, migrate, then make it visible

        let notes = try await tenancy.withTenant(acme) {
            // In here the code reads like a single-tenant app's.
            let db = try tenancy.currentPool(as: SQLitePool.self) // the lease's pool; noTenant outside a scope
            try await db.write { _ = try await $0.query("INSERT INTO notes (body) VALUES (?)", [.text("hello")]) }
            return try await db.read { try await $0.query("SELECT body FROM notes") }.compactMap { $0.column("body")?.string }
        }
        let names = try await tenancy.tenants()       // [acme]
        // README: end of the first half of block 2.

        #expect(notes == ["hello"])
        #expect(names == [acme])
        let file = try tenancy.typedStore.databasePath(for: acme)
        #expect(file == directory.path + "/storage/tenants/acme/main.sqlite3")
        #expect(FileManager.default.fileExists(atPath: file))
        // Fail closed: outside the scope there is no tenant, so no database.
        #expect(Tenant.current == nil)
        let outside = #expect(throws: TenantedError.self) { try tenancy.currentPool(as: SQLitePool.self) }
        #expect(outside?.code == .noTenant)

        // README: second half of block 2.
        try await tenancy.destroyTenant(acme)         // close acme's pool, then delete its files
        await tenancy.shutdown()                      // or run `tenancy` in your ServiceGroup

        #expect(try await tenancy.tenants() == [])
        #expect(try await tenancy.tenantExists(acme) == false)
        #expect(!FileManager.default.fileExists(atPath: file))
    }

    @Test("the tenant context follows async let and Task {}, not Task.detached; require() fails closed")
    func propagation() async throws {
        let tenancy = try Tenancy(store: try SQLiteStore(configuration: .init(root: directory.path)), migrator: schema)
        let acme = try TenantID("acme")
        try await tenancy.createTenant(acme)

        // MARK: README block 3: "Guarantees"
        let seen = try await tenancy.withTenant(acme) {
            async let child = Tenant.current                 // acme: async let inherits the tenant
            let task = Task { Tenant.current }               // acme: so does Task { }
            let detached = Task.detached { Tenant.current }  // nil: Task.detached does not
            return [await child, await task.value, await detached.value]
        }
        // seen == [acme, acme, nil]
        // README: end of block 3.

        #expect(seen == [acme, acme, nil])
        let outside = #expect(throws: TenantedError.self) { try Tenant.require() }
        #expect(outside?.code == .noTenant)

        try await tenancy.destroyTenant(acme)
        await tenancy.shutdown()
    }

    @Test("every line of every Swift block in README.md appears in this file, in order")
    func readmeMatches() throws {
        let here = URL(fileURLWithPath: #filePath)
        let readme = try String(
            contentsOf: here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("README.md"),
            encoding: .utf8
        )
        // The Vapor tutorial's blocks are mirrored by TenantedVaporTests/ReadmeTutorialTests.swift, the
        // Hummingbird section's by TenantedHummingbirdTests/ReadmeHummingbirdTests.swift, the
        // integrations block by ReadmeIntegrationsTests.swift, the Hummingbird integrations block by
        // TenantedHummingbirdTests/ReadmeHummingbirdIntegrationsTests.swift, the admin console's block by
        // TenantedVaporTests/ReadmeAdminTests.swift.
        let sections = [
            "## Five-minute tutorial: Tenanted in a Vapor app", "## Tenanted in a Hummingbird app", "## App integrations",
            "## App integrations on Hummingbird", "## Admin console",
        ]
        let rest = sections.reduce(readme) { DocumentMirror.removingSection($1, from: $0) }
        #expect(DocumentMirror.swiftBlocks(in: rest).count == 3, "README.md has 3 Swift blocks outside the tutorial; update this file when that changes")
        let missing = DocumentMirror.missingLines(of: rest, in: try String(contentsOf: here, encoding: .utf8), marker: "README")
        #expect(missing.isEmpty, "README.md lines not in ReadmeQuickStartTests.swift (in order): \(missing)")
    }
}

/// A fresh, empty directory under the system's temporary directory, removed when the test ends.
private final class ReadmeDirectory: Sendable {
    let path: String

    init() {
        let base = FileManager.default.temporaryDirectory.resolvingSymlinksInPath()
        let url = base.appendingPathComponent("tenanted-readme-\(UUID().uuidString)", isDirectory: true)
        path = url.standardizedFileURL.path
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}
