import Foundation
import Tenanted
import TenantedSQLite
import TenantedTestSupport
import Testing

/// The README's "App integrations" block, compiled and run.
@Suite("README: app integrations")
struct ReadmeIntegrationsTests {
    @Test("the README's integrations example runs as written")
    func example() async throws {
        let directory = try TemporaryDirectory()
        let root = directory.path
        // README: block 1.
        let files = try TenantFiles(root: root + "/tenants/%{tenant}/files")   // beside each tenant's database
        let live = TenantBroadcaster<String>()
        var configuration = Tenancy.Configuration()
        configuration.hooks.refuseNames(["www", "admin", "api"])              // reserved subdomains
        files.removeOnDestroy(&configuration.hooks)                            // files go with the tenant
        live.closeOnDestroy(&configuration.hooks)                              // and so do its live sockets
        let app = try Tenancy(store: try SQLiteStore(configuration: .init(root: root)), configuration: configuration)

        let acme = try TenantID("acme")
        try await app.createTenant(acme)
        let links = try TenantURLTemplate("https://%{tenant}.example.com")
        let job = try await app.withTenant(acme) {
            try await files.write("logo.png", bytes: [0x89, 0x50, 0x4E, 0x47])       // atomic, owner-only, no links followed
            let updates = try live.subscribe()                                    // acme's messages only
            try live.publish("logo changed")
            _ = updates
            let key = try TenantCacheKey.scoped("stats")                          // "t4:acme:stats"
            let url = try links.url(path: "/notes/7")                             // "https://acme.example.com/notes/7"
            return try TenantJob("mail \(url) after \(key)")                     // enqueue it anywhere: it remembers acme
        }
        let sent = try await app.run(job) { text in "\(Tenant.current!): \(text)" }   // back in acme, in any process
        // README: end of block 1.

        #expect(sent == "acme: mail https://acme.example.com/notes/7 after t4:acme:stats")
        #expect(FileManager.default.fileExists(atPath: root + "/tenants/acme/files/logo.png"))
        await expectTenantedError(.badTenantName) { try await app.createTenant(TenantID("www")) }
        try await app.destroyTenant(acme)
        #expect(!FileManager.default.fileExists(atPath: root + "/tenants/acme"), "the files went with the tenant")
        await app.shutdown()
    }

    @Test("every line of the README's integrations block appears in this file, in order")
    func readmeMatches() throws {
        let here = URL(fileURLWithPath: #filePath)
        let readme = try String(
            contentsOf: here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("README.md"),
            encoding: .utf8
        )
        let section = DocumentMirror.section("## App integrations", of: readme)
        #expect(DocumentMirror.swiftBlocks(in: section).count == 1)
        let missing = DocumentMirror.missingLines(of: section, in: try String(contentsOf: here, encoding: .utf8), marker: "README")
        #expect(missing.isEmpty, "README.md lines not in ReadmeIntegrationsTests.swift (in order): \(missing)")
    }
}
