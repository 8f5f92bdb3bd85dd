import Tenanted
import TenantedFluentSQLite
import TenantedSQLite
import TenantedStoreConformance
import TenantedTestSupport
import Testing

/// The store conformance suite (shared with the PostgreSQL stores) against SQLite files.
@Suite struct SQLiteConformanceTests {
    let directory: TemporaryDirectory
    let conformance: StoreConformance<SQLiteStore>

    init() throws {
        let directory = try TemporaryDirectory()
        self.directory = directory
        conformance = StoreConformance(name: "sqlite") {
            try SQLiteStore(configuration: .init(root: directory.path, busyTimeout: .seconds(30), logger: .silent))
        }
    }

    @Test func lifecycle() async throws { try await conformance.lifecycle() }
    @Test func migrations() async throws { try await conformance.migrations() }
    @Test func inventory() async throws { try await conformance.inventory() }
    @Test func isolation() async throws { try await conformance.isolation() }
    @Test func evictionUnderLoad() async throws { try await conformance.evictionUnderLoad() }
    @Test func concurrentCreate() async throws { try await conformance.concurrentCreate() }
    @Test func hostileNames() async throws { try await conformance.hostileNames() }
}
