import Foundation
import Tenanted
import TenantedAdmin
import TenantedSQLite
import TenantedTestSupport
import TenantedVapor
import Testing
import Vapor
import VaporTesting

/// The README's "Admin console" Swift block, compiled and run on a real Vapor app.
@Suite("README: admin console")
struct ReadmeAdminTests {
    @Test("the README's admin console block mounts the console on the bare domain only")
    func readmeExampleRuns() async throws {
        let directory = try TemporaryDirectory()
        let app = try await Application.make(.testing)
        let tenancy = try Tenancy(store: try SQLiteStore(configuration: .init(root: directory.path, logger: .silent)), logger: .silent)
        try app.tenanted.use(tenancy)
        let environment = ["TENANTED_ADMIN_TOKEN": "readme-admin-token-0123"]  // README: `ProcessInfo.processInfo.environment`
        do {
            try await tenancy.createTenant(TenantID("acme"))
            // README: block 1.
            let tenanted = app.grouped(TenantMiddleware(resolver: try .subdomain(of: "example.com")))
            if let admin = try AdminConsole.Configuration.fromEnvironment(environment) { // README: `if let admin = try AdminConsole.Configuration.fromEnvironment(ProcessInfo.processInfo.environment) {`
                tenanted.addAdminConsole(AdminConsole(tenancy: tenancy, configuration: admin))
            }
            // README: end of block 1.
            try await app.testing().test(.GET, "admin", headers: ["Host": "example.com"]) { response async in
                #expect(response.status == .unauthorized)
                #expect(response.body.string.contains("name=\"token\""))
            }
            try await app.testing().test(.GET, "admin", headers: ["Host": "acme.example.com"]) { response async in
                #expect(response.status == .notFound)
            }
            try await app.testing().test(.POST, "admin/login", headers: ["Host": "example.com", "Content-Type": "application/x-www-form-urlencoded"],
                                         body: .init(string: "token=readme-admin-token-0123")) { response async in
                #expect(response.status == .seeOther)
                #expect(response.headers.first(name: .setCookie)?.contains("HttpOnly") == true)
            }
            // A body over the console's limit is never read as a form: Vapor's collect limit answers 413 on
            // a real server; the in-memory tester hands the body over and the console refuses it (401).
            try await app.testing().test(.POST, "admin/login", headers: ["Host": "example.com", "Content-Type": "application/x-www-form-urlencoded"],
                                         body: .init(string: "token=" + String(repeating: "x", count: AdminConsole.maximumBodySize + 10))) { response async in
                #expect([.payloadTooLarge, .unauthorized].contains(response.status))
                #expect(response.headers.first(name: .setCookie) == nil)
            }
        } catch {
            try await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
    }

    @Test("every line of the README's admin console block appears in this file, in order")
    func readmeMatches() throws {
        let here = URL(fileURLWithPath: #filePath)
        let readme = try String(
            contentsOf: here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("README.md"),
            encoding: .utf8
        )
        let section = DocumentMirror.section("## Admin console", of: readme)
        #expect(DocumentMirror.swiftBlocks(in: section).count == 1)
        let missing = DocumentMirror.missingLines(of: section, in: try String(contentsOf: here, encoding: .utf8), marker: "README")
        #expect(missing.isEmpty, "README.md lines not in ReadmeAdminTests.swift (in order): \(missing)")
    }
}
