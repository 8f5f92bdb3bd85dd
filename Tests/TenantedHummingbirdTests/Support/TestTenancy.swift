import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import SQLiteNIO
import Tenanted
import TenantedHummingbird
import TenantedSQLite
import TenantedTestSupport

/// A real SQLite tenancy in a temporary directory, with `acme` and `globex` created, a `notes`
/// table in each, and one note naming its tenant.
struct TestTenancy {
    let directory: TemporaryDirectory
    let tenancy: Tenancy

    static let schema = try! SQLiteMigrator([
        .init(name: "notes", statements: ["CREATE TABLE notes (title TEXT NOT NULL)"], revert: ["DROP TABLE notes"])
    ])

    init(tenants: [String] = ["acme", "globex"], migrator: SQLiteMigrator = Self.schema) async throws {
        directory = try TemporaryDirectory()
        tenancy = try Tenancy(store: try SQLiteStore(configuration: .init(root: directory.path, threadPool: testThreadPool)), migrator: migrator, logger: .silent)
        for name in tenants {
            let tenant = try TenantID(name)
            try await tenancy.createTenant(tenant)
            try await tenancy.withTenant(tenant) {
                try await tenancy.currentPool(as: SQLitePool.self).write { _ = try await $0.query("INSERT INTO notes (title) VALUES (?)", [.text("note of \(name)")]) }
            }
        }
    }

    /// Runs `body` and always shuts the tenancy down.
    func run(_ body: (Tenancy) async throws -> Void) async throws {
        try await withTeardown { try await body(tenancy) } teardown: { await tenancy.shutdown() }
    }
}

/// The titles of the notes in the request's tenant, through the context's typed pool accessor.
func titles(_ context: some TenantRequestContext) async throws -> [String] {
    try await context.tenantPool(as: SQLitePool.self).read { connection in
        try await connection.query("SELECT title FROM notes ORDER BY title").compactMap { $0.column("title")?.string }
    }
}

/// Sends one request to the live app with exactly this `Host` (HummingbirdTesting's clients send
/// their own), over a plain socket.
func send(_ client: any TestClientProtocol, _ method: String = "GET", _ path: String, host: String, body: String? = nil) async throws -> RawHTTPResponse {
    guard let port = client.port else { throw CancellationError() }  // only .live has a port
    return try await RawHTTP.send(port: port, method: method, path: path, host: host, body: body)
}

extension ApplicationConfiguration {
    /// 127.0.0.1 on a port the system picks.
    static var loopback: Self { .init(address: .hostname("127.0.0.1", port: 0)) }
}
