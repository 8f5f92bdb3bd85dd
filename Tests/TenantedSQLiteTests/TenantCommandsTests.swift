import Foundation
import Tenanted
import TenantedSQLite
import TenantedTestSupport
import Testing

/// The `tenants` commands' shared behaviour, driven without any web framework (as a Hummingbird or
/// argument-parser front end drives it), over a real SQLite store; output captured.
@Suite("Tenant commands without a web framework")
struct TenantCommandsTests {
    final class Captured: Sendable {
        let out = Locked("")
        let err = Locked("")
        var output: TenantCommands.Output {
            TenantCommands.Output(
                standardOutput: { line in self.out.withLock { $0 += line } },
                standardError: { line in self.err.withLock { $0 += line } },
                errorIsTerminal: false
            )
        }
    }

    @Test("create, list, status, migrate and destroy print their results on standard output, and a failure one line on standard error")
    func lifecycle() async throws {
        let directory = try TemporaryDirectory()
        try await directory.withTenancy { tenancy async throws in
            let captured = Captured()
            let commands = TenantCommands(tenancy: tenancy, output: captured.output, environment: [:])
            try await commands.create("acme", ifNotExists: false)
            try await commands.create("acme", ifNotExists: true)
            try await commands.list(json: true)
            try await commands.status(tenant: nil, json: false)
            try await commands.migrate(tenant: nil, parallel: 2, json: false)
            #expect(captured.out.value == """
                created acme
                exists acme
                ["acme"]
                acme: 2 applied, up to date
                1 tenant(s): 0 migrated, 1 unchanged, 0 failed

                """)
            #expect(captured.err.value.isEmpty)

            let failure = await #expect(throws: TenantsCommandFailed.self) { try await commands.create("Acme", ifNotExists: false) }
            #expect(failure?.exitStatus == 1)
            #expect(captured.err.value.hasPrefix("error: badTenantName: "))
            #expect(captured.err.value.split(separator: "\n").count == 1, "one line")
            await #expect(throws: TenantsCommandFailed.self) { try await commands.migrate(tenant: nil, parallel: 0, json: false) }
            #expect(captured.err.value.contains("--parallel must be at least 1"))

            let scoped = TenantCommands(tenancy: tenancy, output: captured.output, environment: ["TENANT": "acme"])
            captured.out.withLock { $0 = "" }
            try await scoped.status(tenant: nil, json: true)
            #expect(captured.out.value == #"[{"applied":["001_notes","002_tags"],"pending":[],"suspended":false,"tenant":"acme"}]"# + "\n")
            try await commands.destroy("acme")
            #expect(captured.out.value.hasSuffix("destroyed acme\n"))
            #expect(try await tenancy.tenants().isEmpty)
        }
    }
}
