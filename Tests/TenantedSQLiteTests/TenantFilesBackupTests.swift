import Foundation
import Tenanted
import TenantedSQLite
import TenantedTestSupport
import Testing

/// Tenant files travel with backup, restore and clone (``Tenancy/Configuration/files``), and a backup
/// whose files section is hostile is refused whole, before anything is written.
@Suite("Tenant files in backups")
struct TenantFilesBackupTests {
    let directory: TemporaryDirectory
    let files: TenantFiles
    let acme: TenantID
    let globex: TenantID

    init() throws {
        directory = try TemporaryDirectory()
        files = try TenantFiles(root: directory.appending("storage/tenants/%{tenant}/files"))
        acme = try TenantID("acme")
        globex = try TenantID("globex")
    }

    private var configuration: Tenancy.Configuration {
        var configuration = Tenancy.Configuration(files: files)
        files.removeOnDestroy(&configuration.hooks)
        return configuration
    }

    private func write(_ key: String, _ text: String, to tenant: TenantID, in tenancy: Tenancy) async throws {
        try await tenancy.withTenant(tenant) { try await files.write(key, bytes: Array(text.utf8)) }
    }

    /// Every file of `tenant` as name → text.
    private func contents(of tenant: TenantID, in tenancy: Tenancy) async throws -> [String: String] {
        try await tenancy.withTenant(tenant) { () async throws in
            var result: [String: String] = [:]
            for key in try await files.list() { result[key.rawValue] = String(decoding: try await files.read(key.rawValue), as: UTF8.self) }
            return result
        }
    }

    private func path(_ name: String) -> String { directory.appending(name) }

    @Test("a backup holds the tenant's files; restore brings them back, replace swaps the whole set, a clone's files are its own")
    func filesTravel() async throws {
        try await directory.withTenancy(configuration) { tenancy in
            try await tenancy.createTenant(acme)
            try await write("logo.png", "acme logo", to: acme, in: tenancy)
            try await write("empty.txt", "", to: acme, in: tenancy)
            let big = String(repeating: "0123456789", count: 30_000)
            try await write("big.bin", big, to: acme, in: tenancy)
            let header = try await tenancy.backup(acme, to: path("acme.backup"))
            #expect(header.format == 2)
            #expect(header.fileCount == 3)
            #expect(header.filesBytes > 300_000)

            try await tenancy.restore(globex, from: path("acme.backup"))
            #expect(try await contents(of: globex, in: tenancy) == ["logo.png": "acme logo", "empty.txt": "", "big.bin": big])

            // Replace: the tenant's files become the backup's set, exactly.
            try await write("later.txt", "after the backup", to: acme, in: tenancy)
            try await write("logo.png", "new logo", to: acme, in: tenancy)
            try await tenancy.withTenant(acme) { try await files.delete("empty.txt") }
            try await tenancy.restore(acme, from: path("acme.backup"), replace: true)
            #expect(try await contents(of: acme, in: tenancy) == ["logo.png": "acme logo", "empty.txt": "", "big.bin": big])

            // Clone: copies, not links; writes to one never reach the other.
            let initech = try TenantID("initech")
            try await tenancy.clone(acme, to: initech)
            try await write("logo.png", "initech logo", to: initech, in: tenancy)
            try await write("own.txt", "initech only", to: initech, in: tenancy)
            #expect(try await contents(of: acme, in: tenancy)["logo.png"] == "acme logo")
            #expect(try await contents(of: acme, in: tenancy)["own.txt"] == nil)
            #expect(try await contents(of: initech, in: tenancy)["logo.png"] == "initech logo")

            // Files are owner-only after a restore, and no staging or replaced folder is left.
            let logo = files.folder(of: acme) + "/logo.png"
            #expect(try FileManager.default.attributesOfItem(atPath: logo)[.posixPermissions] as? Int == 0o600)
            #expect(try FileManager.default.attributesOfItem(atPath: files.folder(of: acme))[.posixPermissions] as? Int == 0o700)
            let beside = try FileManager.default.contentsOfDirectory(atPath: directory.appending("storage/tenants/acme"))
            #expect(!beside.contains { $0.contains(".restoring-") || $0.contains(".replaced-") }, "\(beside)")

            // A tenant without files backs up and restores with none.
            let empty = try TenantID("empty")
            try await tenancy.createTenant(empty)
            #expect(try await tenancy.backup(empty, to: path("empty.backup")).fileCount == 0)
            try await tenancy.restore(try TenantID("empty2"), from: path("empty.backup"))
            #expect(try await contents(of: try TenantID("empty2"), in: tenancy).isEmpty)
        }
    }

    @Test("a link planted in a tenant's folder is never followed into a backup")
    func linksLeftOut() async throws {
        try await directory.withTenancy(configuration) { tenancy in
            try await tenancy.createTenant(acme)
            try await write("real.txt", "real", to: acme, in: tenancy)
            try Data("secret".utf8).write(to: URL(fileURLWithPath: path("secret.txt")))
            try FileManager.default.createSymbolicLink(atPath: files.folder(of: acme) + "/link.txt", withDestinationPath: path("secret.txt"))
            let header = try await tenancy.backup(acme, to: path("acme.backup"))
            #expect(header.fileCount == 1)
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path("acme.backup")))
            #expect(bytes.range(of: Data("secret".utf8)) == nil, "the link's target is not in the backup")
            try await tenancy.restore(globex, from: path("acme.backup"))
            #expect(try await contents(of: globex, in: tenancy) == ["real.txt": "real"])
        }
    }

    @Test("hostile file entries (traversal, absolute, nested, links, folders, oversized, duplicates, damage) are refused whole; nothing is written")
    func hostileEntries() async throws {
        try await directory.withTenancy(configuration) { tenancy in
            try await tenancy.createTenant(acme)
            try await write("ok.txt", "fine", to: acme, in: tenancy)
            try await tenancy.backup(acme, to: path("good.backup"))
            let good = try Data(contentsOf: URL(fileURLWithPath: path("good.backup")))
            let cases: [(String, String, Int, String)] = [
                ("traversal", "file 5 ../escaped\nhello", 1, "not a plain file name"),
                ("deep-traversal", "file 5 ../../../../tmp/escaped\nhello", 1, "not a plain file name"),
                ("absolute", "file 5 /tmp/escaped\nhello", 1, "not a plain file name"),
                ("nested", "file 5 sub/escaped\nhello", 1, "not a plain file name"),
                ("hidden", "file 5 .escaped\nhello", 1, "not a plain file name"),
                ("link", "link 11 escaped\n/etc/passwd", 1, "not a plain file"),
                ("folder", "dir 0 escaped\n", 1, "not a plain file"),
                ("oversized", "file 99999999999 escaped\nhello", 1, "larger than its files section"),
                ("negative", "file -5 escaped\nhello", 1, "bad size"),
                ("duplicate", "file 1 escaped\nafile 1 escaped\nb", 2, "same file name twice"),
                ("count", "file 5 escaped\nhello", 2, "its header says"),
                ("no-line", "file 5 escaped", 1, "without its line"),
                ("no-fields", "escaped\n", 1, "not 'KIND SIZE NAME'"),
                // A good entry first: validation is whole, so even it is not written.
                ("second-bad", "file 4 escaped\nfinefile 3 ../x\nbad", 2, "not a plain file name"),
            ]
            let target = try TenantID("target")
            for (name, section, count, words) in cases {
                try backupWithFiles(good, section: Data(section.utf8), count: count).write(to: URL(fileURLWithPath: path(name + ".backup")))
                let error = await #expect(throws: TenantedError.self, "\(name)") { try await tenancy.restore(target, from: path(name + ".backup")) }
                #expect(error?.code == .badBackup, "\(name): \(String(describing: error))")
                #expect(error?.description.contains(words) == true, "\(name): \(String(describing: error))")
                #expect(error?.description.contains("escaped") == false, "\(name): never echoes the entry")
                #expect(error?.description.contains("\n") == false)
                #expect(try await tenancy.tenantExists(target) == false)
                #expect(!directory.exists("storage/tenants/target"), "\(name) wrote nothing")
                // And over an existing tenant with replace: refused before its files are touched.
                await expectTenantedError(.badBackup) { try await tenancy.restore(acme, from: path(name + ".backup"), replace: true) }
                #expect(try await contents(of: acme, in: tenancy) == ["ok.txt": "fine"], "\(name)")
            }
            let stray = FileManager.default.enumerator(atPath: directory.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix("escaped") || $0.hasSuffix("/x") } ?? []
            #expect(stray.isEmpty, "\(stray)")
            #expect(!FileManager.default.fileExists(atPath: "/tmp/escaped"))
        }
    }

    @Test("the header is still checked: a format its magic line does not match, and a format 1 backup restores leaving files alone")
    func formats() async throws {
        try await directory.withTenancy(configuration) { tenancy in
            try await tenancy.createTenant(acme)
            try await write("kept.txt", "kept", to: acme, in: tenancy)
            try await tenancy.backup(acme, to: path("good.backup"))
            let good = try Data(contentsOf: URL(fileURLWithPath: path("good.backup")))
            let mismatched = try backupRewriting(good, "format", to: 1)
            try mismatched.write(to: URL(fileURLWithPath: path("mismatched.backup")))
            let error = await #expect(throws: TenantedError.self) { try await tenancy.restore(globex, from: path("mismatched.backup")) }
            #expect(error?.description.contains("damaged header") == true, "\(String(describing: error))")
            try (Data("TENANTED-BACKUP 3\n".utf8) + good.drop(while: { $0 != UInt8(ascii: "\n") }).dropFirst()).write(to: URL(fileURLWithPath: path("future.backup")))
            let future = await #expect(throws: TenantedError.self) { try await tenancy.restore(globex, from: path("future.backup")) }
            #expect(future?.description.contains("format this release does not read") == true, "\(String(describing: future))")

            // A format 1 file (written before files travelled): restores, and replace keeps the files.
            let version1 = try formatOne(good)
            try version1.write(to: URL(fileURLWithPath: path("v1.backup")))
            try await tenancy.restore(globex, from: path("v1.backup"))
            #expect(try await contents(of: globex, in: tenancy).isEmpty)
            try await tenancy.restore(acme, from: path("v1.backup"), replace: true)
            #expect(try await contents(of: acme, in: tenancy) == ["kept.txt": "kept"])
        }
    }

    // MARK: Crafting backup files

    /// `good` (a format 2 backup) with its files section replaced by `section` holding `count` entries.
    private func backupWithFiles(_ good: Data, section: Data, count: Int) throws -> Data {
        let (header, payload) = try split(good)
        var edited = header
        edited["filesBytes"] = section.count
        edited["fileCount"] = count
        return Data("TENANTED-BACKUP 2\n".utf8) + (try JSONSerialization.data(withJSONObject: edited, options: [.sortedKeys])) + Data("\n".utf8) + payload + section
    }

    /// `good` as release 1 wrote it: format 1, no files section.
    private func formatOne(_ good: Data) throws -> Data {
        let (header, payload) = try split(good)
        var edited = header
        edited["format"] = 1
        edited["filesBytes"] = nil
        edited["fileCount"] = nil
        return Data("TENANTED-BACKUP 1\n".utf8) + (try JSONSerialization.data(withJSONObject: edited, options: [.sortedKeys])) + Data("\n".utf8) + payload
    }

    private func split(_ data: Data) throws -> (header: [String: Any], payload: Data) {
        guard let first = data.firstIndex(of: UInt8(ascii: "\n")),
              let second = data[(first + 1)...].firstIndex(of: UInt8(ascii: "\n")),
              let header = try JSONSerialization.jsonObject(with: data[(first + 1)..<second]) as? [String: Any],
              let length = header["payloadBytes"] as? Int
        else { throw CocoaError(.fileReadCorruptFile) }
        return (header, data[(second + 1)..<(second + 1 + length)])
    }
}
