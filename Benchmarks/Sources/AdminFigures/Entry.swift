import BenchmarkSupport
import Foundation
import Logging
import Tenanted
import TenantedAdmin
import TenantedSQLite

/// `admin-figures [--quick] [--output PATH] [--latest PATH]`: the admin console over 100,000 SQLite
/// tenants (5,000 with `--quick`): how long its pages take to render through
/// `AdminConsole.respond(to:)` (no HTTP), and how many bytes the tenants page weighs. The baseline of
/// each page time is listing every tenant once (`Tenancy.tenants()`), the least a console that loaded
/// every tenant per page would pay.
@main
struct Entry {
    struct Report: Codable {
        var tenants = 0
        var createSeconds = 0.0
        var pages: [String: Summary] = [:]
        var listAll: Summary?
        var tenantsPageBytes = 0
        var loadAverage: [String] = []
    }

    static let token = "benchmark-admin-token-0123456789"

    static func main() async throws {
        let options = Options(name: "admin-figures")
        let report = try await measure(options: options)
        let baseline = report.listAll.map { $0.medianMicros / 1000 }
        var figures = [
            Figure(name: "admin_create_\(report.tenants)_tenants", value: report.createSeconds, unit: "s", baseline: nil),
            Figure(name: "admin_tenants_page_bytes", value: Double(report.tenantsPageBytes), unit: "bytes", baseline: nil),
        ]
        for name in ["overview", "tenants_first_page", "tenants_middle_page", "tenants_prefix_search", "one_tenant"] {
            guard let summary = report.pages[name] else { continue }
            figures.append(Figure(name: "admin_\(name)_\(report.tenants)_median", value: summary.medianMicros / 1000, unit: "ms", baseline: baseline))
        }
        print("")
        try publish(figures, from: "admin-figures", options: options)
        try writeResults(report, loadAverage: report.loadAverage, to: options.output)
    }

    nonisolated static func measure(options: Options) async throws -> Report {
        var logger = Logger(label: "admin-figures")
        logger.logLevel = .warning
        var report = Report()
        report.loadAverage.append(loadAverage())
        report.tenants = options.quick ? 5_000 : 100_000
        let samples = options.quick ? 5 : 15
        try await withTemporaryDirectory(named: "admin-figures") { root in
            let migrator = try SQLiteMigrator([
                SQLMigration(name: "001_notes", statements: ["CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL, body TEXT)"]),
                SQLMigration(name: "002_tags", statements: ["CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL)"]),
            ])
            let tenancy = try Tenancy(store: try SQLiteStore(configuration: .init(root: root, logger: logger)), migrator: migrator, logger: logger)
            let started = ContinuousClock.now
            let total = report.tenants
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<4 {
                    group.addTask {
                        for index in stride(from: worker, to: total, by: 4) {
                            _ = try await tenancy.createTenant(TenantID(String(format: "tenant-%06d", index)))
                            if index % 10_000 == 0 { progress("· admin: created \(index) tenants\n") }
                        }
                    }
                }
                try await group.waitForAll()
            }
            report.createSeconds = nanoseconds(ContinuousClock.now - started) / 1e9
            progress("· admin: created \(total) tenants in \(Int(report.createSeconds)) s\n")

            let console = AdminConsole(tenancy: tenancy, configuration: try .init(token: token), logger: logger)
            let login = await console.respond(to: AdminRequest(
                method: "POST", path: "/admin/login", contentType: "application/x-www-form-urlencoded",
                body: Array("token=\(token)".utf8), isTenantRequest: false
            ))
            guard let cookie = login.header("Set-Cookie")?.split(separator: ";").first.map(String.init) else {
                throw BenchmarkError("sign-in failed: \(login.status)")
            }
            let middle = String(format: "tenant-%06d", total / 2)
            let pages: [(String, String, String?)] = [
                ("overview", "/admin", nil),
                ("tenants_first_page", "/admin/tenants", nil),
                ("tenants_middle_page", "/admin/tenants", "after=\(middle)"),
                ("tenants_prefix_search", "/admin/tenants", "prefix=tenant-0123"),
                ("one_tenant", "/admin/tenants/\(middle)", nil),
            ]
            for (name, path, query) in pages {
                let series = Series()
                try await series.run(iterations: samples, warmup: 1) { _ in
                    let response = await console.respond(to: AdminRequest(method: "GET", path: path, query: query, cookie: cookie, isTenantRequest: false))
                    guard response.status == 200 else { throw BenchmarkError("\(path)?\(query ?? "") answered \(response.status)") }
                    if name == "tenants_first_page" { report.tenantsPageBytes = response.body.utf8.count }
                }
                report.pages[name] = series.summary()
                progress("· admin: \(name) \(Int(series.summary().medianMicros / 1000)) ms\n")
            }
            let listAll = Series()
            try await listAll.run(iterations: 3, warmup: 0) { _ in _ = try await tenancy.tenants() }
            report.listAll = listAll.summary()
            await tenancy.shutdown()
        }
        report.loadAverage.append(loadAverage())
        return report
    }
}
