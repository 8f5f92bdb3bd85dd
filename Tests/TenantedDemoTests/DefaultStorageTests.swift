import Foundation
import TenantedTestSupport
import Testing

/// `swift run tenanted-demo` runs with the default storage `./storage`, a relative path with a `.`
/// component: both demos must start on it (a tenant files template refused it once).
@Suite("The demos on their default, relative storage", .enabled(if: Demo.allCases.allSatisfy(\.isBuilt), "build both demos first (scripts/test does)"))
struct DefaultStorageTests {
    @Test("a relative TENANTED_STORAGE such as the default ./storage works, on SQLite", arguments: Demo.allCases)
    func relativeStorage(demo: Demo) async throws {
        let directory = try TemporaryDirectory()
        for storage in ["./storage", "storage", "./a/../storage"] {
            let created = try await ChildProcess.run(
                demo.executable.path, arguments: ["tenants", "create", "acme", "--if-not-exists"],
                environment: ["TENANTED_STORAGE": storage, "LOG_LEVEL": "warning"], directory: directory.path
            )
            #expect(created.status == 0, "\(demo) with TENANTED_STORAGE=\(storage): \(created.stderr)")
        }
        #expect(directory.exists("storage/tenants/acme/main.sqlite3"))
        let listed = try await ChildProcess.run(
            demo.executable.path, arguments: ["tenants", "list"], environment: ["TENANTED_STORAGE": "./storage", "LOG_LEVEL": "warning"], directory: directory.path
        )
        #expect(listed.stdout == "acme\n")
    }
}
