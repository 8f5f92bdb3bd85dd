import Foundation
import Logging
import Tenanted
@testable import TenantedAdmin
import TenantedSQLite
import TenantedTestSupport

/// A console over a real SQLite tenancy in a temporary directory, and a signed-in session.
struct AdminFixture {
    static let token = "correct-horse-battery-staple"
    static let v1 = migrator([SQLMigration(name: "001_notes", statements: ["CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"])])
    static let v2 = migrator(v1.migrations + [SQLMigration(name: "002_tags", statements: ["CREATE TABLE tags (id INTEGER PRIMARY KEY)"])])

    private static func migrator(_ migrations: [SQLMigration]) -> SQLiteMigrator {
        do { return try SQLiteMigrator(migrations) } catch { preconditionFailure("test migrations are valid: \(error)") }
    }

    let directory: TemporaryDirectory
    let tenancy: Tenancy
    let console: AdminConsole
    let logs: RecordedLogs

    init(migrator: SQLiteMigrator = Self.v1, pageSize: Int = 100, directory: TemporaryDirectory? = nil, now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }) throws {
        let directory = try directory ?? TemporaryDirectory()
        self.directory = directory
        tenancy = try Tenancy(
            store: try SQLiteStore(configuration: .init(root: directory.path, logger: .silent)),
            migrator: migrator,
            logger: .silent
        )
        let logs = RecordedLogs()
        self.logs = logs
        console = AdminConsole(
            tenancy: tenancy,
            configuration: try .init(token: Self.token, pageSize: pageSize),
            logger: logs.logger(label: "admin-tests"),
            clock: now
        )
    }

    func shutdown() async { await tenancy.shutdown() }

    func get(_ path: String, query: String? = nil, session: String? = nil, tenantRequest: Bool = false) async -> AdminResponse {
        await console.respond(to: AdminRequest(
            method: "GET", path: path, query: query, cookie: session.map { "\(AdminSessions.cookieName)=\($0)" }, isTenantRequest: tenantRequest
        ))
    }

    func post(_ path: String, form: [(String, String)], session: String?) async -> AdminResponse {
        let body = form.map { "\($0.0)=\(HTML.queryValue($0.1))" }.joined(separator: "&")
        return await console.respond(to: AdminRequest(
            method: "POST", path: path, cookie: session.map { "theme=dark; \(AdminSessions.cookieName)=\($0)" },
            contentType: "application/x-www-form-urlencoded", body: Array(body.utf8), isTenantRequest: false
        ))
    }

    /// Signs in through the login form and returns the session cookie's value.
    func signIn() async throws -> String {
        let response = await post("/admin/login", form: [("token", Self.token)], session: nil)
        guard response.status == 303, let cookie = response.header("Set-Cookie"),
            let value = cookie.split(separator: ";").first?.split(separator: "=", maxSplits: 1).last
        else { throw RawHTTP.Failure(description: "sign-in failed: \(response.status)") }
        return String(value)
    }

    /// The CSRF token in a page's forms.
    static func csrf(in page: AdminResponse) -> String? {
        guard let range = page.body.range(of: "name=\"csrf\" value=\"") else { return nil }
        return String(page.body[range.upperBound...].prefix { $0 != "\"" })
    }
}
