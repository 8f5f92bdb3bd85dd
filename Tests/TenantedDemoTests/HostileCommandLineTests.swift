import Foundation
import TenantedTestSupport
import Testing

/// Issue 7, test 3 (names): every name of the hostile table given to `tenants create` of either demo
/// is refused, and nothing appears anywhere under the directory that holds the storage root.
@Suite("Hostile tenant names on the command line")
struct HostileCommandLineTests {
    let directory = try! TemporaryDirectory()

    @Test(arguments: Demo.allCases)
    func everyHostileNameIsRefusedAndCreatesNothing(executable: Demo) async throws {
        try #require(executable.isBuilt, "build \(executable) first (scripts/test does)")
        let demo = DemoProcess(storage: directory.appending("storage"), demo: executable)
        #expect(try await demo.run(["tenants", "list"]).status == 0)
        let before = directory.contents()
        // A process argument cannot hold a NUL byte; those names are covered by TenantID's own test.
        let names = HostileInput.tenantNames.filter { !$0.contains("\0") }
        let failures = Locked<[String]>([])
        try await forEachConcurrently(names, width: 4) { name in
            let run = try await demo.run(["tenants", "create", name])
            // The argument parsers refuse some names themselves (an option-like `-acme`, an empty one).
            let clear = name.isEmpty || name.hasPrefix("-") || run.stderr.contains("invalid tenant name")
            if run.status == 0 || !clear { failures.append("\(name.debugDescription): \(run.status) \(run.stderr)") }
        }
        #expect(failures.value.isEmpty, "\(failures.value)")
        #expect(directory.contents() == before, "a hostile name created or removed a file")
        #expect(try await demo.run(["tenants", "list"]).stdout == "")
    }
}
