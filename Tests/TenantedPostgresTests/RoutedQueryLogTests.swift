import FluentKit
import Logging
import SQLKit
import Tenanted
import TenantedFluent
import TenantedFluentPostgres
import TenantedPostgres
import TenantedTestSupport
import Testing

/// Raw SQL through the routing database logs PostgresKit's query line to the caller's logger, tagged
/// with the tenant, when that logger's level lets it through, and nothing below it (a guard for any
/// change to how `PostgresFluentDatabase` reaches PostgresKit, such as the one issue 19 tried).
@Suite(.enabled(if: PostgresTestServer.url != nil, PostgresTestServer.unsetReason))
struct RoutedQueryLogTests {
    @Test("the query line goes to a debug logger with the tenant; an info logger gets none, and the rows are the same")
    func queryLineFollowsTheLoggersLevel() async throws {
        let stores = try PostgresTestStores(layout: .databasePerTenant())
        let tenant = try TenantID("logged")
        try await ItemsTenancy.with(stores) { items in
            try await items.tenancy.createTenant(tenant)
            try await items.insert(41, into: tenant)
            let lines = RecordedLogs()
            func values(at level: Logger.Level) async throws -> [Int] {
                let logger = lines.logger(label: "routed-query-log", level: level)
                return try await items.tenancy.withTenant(tenant) {
                    let database = items.databases.database(logger: logger, on: items.store.eventLoopGroup.any()) as! any SQLDatabase
                    return try await database.raw("SELECT value FROM items WHERE value = \(bind: 41)").all()
                        .map { try $0.decode(column: "value", as: Int.self) }
                }
            }
            #expect(try await values(at: .debug) == [41])
            let logged = lines.all.filter { $0.contains("Executing query") }
            #expect(logged.count == 1, "one query line at debug: \(lines.all)")
            #expect(logged.first?.contains("SELECT value FROM items") == true)
            #expect(logged.first?.contains("logged") == true, "tagged with the tenant: \(logged)")

            lines.clear()
            #expect(try await values(at: .info) == [41])
            #expect(lines.all.isEmpty, "nothing logged at info: \(lines.all)")
        }
    }
}
