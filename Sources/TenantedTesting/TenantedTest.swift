public import Tenanted
import Foundation

/// What the TenantedTesting traits set up for the test that is running: its tenancy, its storage
/// and its tenant.
///
/// ```swift
/// @Suite(.tenancy { storage in
///     try Tenancy(store: try SQLiteStore(configuration: .init(root: storage.directory)), migrator: MyMigrations())
/// })
/// struct NoteTests {
///     @Test(.tenant) func createsANote() async throws {
///         let tenancy = try TenantedTest.tenancy        // the suite's throwaway tenancy
///         let tenant = try Tenant.require()              // this test's own tenant
///         …
///     }
/// }
/// ```
public enum TenantedTest {
    @TaskLocal static var context: TenancyContext?

    struct TenancyContext: Sendable {
        let tenancy: Tenancy
        let storage: TestStorage
    }

    /// The throwaway tenancy of the enclosing `.tenancy` trait.
    /// - Throws: ``Tenanted/TenantedError/Code/misuse`` outside a suite or test with a `.tenancy` trait.
    public static var tenancy: Tenancy {
        get throws(TenantedError) { try require().tenancy }
    }

    /// The storage of the enclosing `.tenancy` trait: a fresh directory and a unique name prefix.
    /// - Throws: ``Tenanted/TenantedError/Code/misuse`` outside a `.tenancy` trait.
    public static var storage: TestStorage {
        get throws(TenantedError) { try require().storage }
    }

    static func require() throws(TenantedError) -> TenancyContext {
        guard let context else {
            throw TenantedError(.misuse, "no tenancy for this test: add the .tenancy { … } trait to its suite or to the test")
        }
        return context
    }
}

/// Where a throwaway tenancy keeps its tenants: a fresh directory (for SQLite files, tenant files)
/// and a unique prefix (for PostgreSQL database or schema names), both removed after the suite.
public struct TestStorage: Sendable {
    /// A new, empty directory, deleted with its contents after the suite.
    public let directory: String
    /// A name prefix no other test run uses: `tt_` and 10 random hex digits and `_`, valid as a
    /// PostgreSQL or MySQL identifier prefix.
    public let prefix: String

    static func make() throws -> TestStorage {
        let suffix = String(UInt64.random(in: 0...UInt64.max) & 0xFF_FFFF_FFFF, radix: 16)
        let name = "tt_" + String(repeating: "0", count: max(0, 10 - suffix.count)) + suffix + "_"
        let url = FileManager.default.temporaryDirectory.resolvingSymlinksInPath()
            .appendingPathComponent("tenanted-testing-\(name)\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return TestStorage(directory: url.standardizedFileURL.path, prefix: name)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}
