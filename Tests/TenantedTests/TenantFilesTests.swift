import Foundation
import Tenanted
import TenantedTestSupport
import Testing

@Suite("Tenant files")
struct TenantFilesTests {
    let directory: TemporaryDirectory
    let files: TenantFiles
    let acme = try! TenantID("acme")
    let globex = try! TenantID("globex")

    init() throws {
        directory = try TemporaryDirectory()
        files = try TenantFiles(root: directory.path + "/tenants/%{tenant}/files")
    }

    @Test("write, read, list, size and delete in the current tenant; another tenant sees none of it")
    func roundTrip() async throws {
        try await withTenant(acme) {
            try await files.write("logo.png", bytes: Array("acme's logo".utf8))
            try await files.write("notes-2026.txt", bytes: [1, 2, 3])
            #expect(try await files.read("logo.png") == Array("acme's logo".utf8))
            #expect(try await files.list() == ["logo.png", "notes-2026.txt"])
            #expect(try await files.size(of: "notes-2026.txt") == 3)
            #expect(try await files.size(of: "absent.txt") == nil)
        }
        try await withTenant(globex) {
            #expect(try await files.list() == [])
            await expectTenantedError(.fileNotFound) { _ = try await files.read("logo.png") }
            try await files.write("logo.png", bytes: Array("globex".utf8))
        }
        try await withTenant(acme) {
            #expect(try await files.read("logo.png") == Array("acme's logo".utf8), "globex's write never reaches acme")
            try await files.delete("logo.png")
            await expectTenantedError(.fileNotFound) { _ = try await files.read("logo.png") }
            await expectTenantedError(.fileNotFound) { try await files.delete("logo.png") }
            #expect(try await files.list() == ["notes-2026.txt"])
        }
        #expect(files.folder(of: acme) == directory.path + "/tenants/acme/files")
    }

    @Test("outside a tenant every operation is noTenant and touches no file")
    func noTenant() async throws {
        await expectTenantedError(.noTenant) { try await files.write("a.txt", bytes: [1]) }
        await expectTenantedError(.noTenant) { _ = try await files.read("a.txt") }
        await expectTenantedError(.noTenant) { _ = try await files.list() }
        await expectTenantedError(.noTenant) { try await files.delete("a.txt") }
        #expect(directory.contents().isEmpty)
    }

    @Test("hostile names are refused with badFileName and nothing is written anywhere")
    func hostileNames() async throws {
        try await withTenant(acme) {
            try await files.write("kept.txt", bytes: [7])
            for name in HostileInput.fileKeys {
                let error = #expect(throws: TenantedError.self, "\(name.debugDescription)") { try TenantFileKey(name) }
                #expect(error?.code == .badFileName, "\(name.debugDescription)")
                #expect(error?.description.contains("/") == false, "the message never carries a path")
                await expectTenantedError(.badFileName) { try await files.write(name, bytes: [0x41]) }
                await expectTenantedError(.badFileName) { _ = try await files.read(name) }
                await expectTenantedError(.badFileName) { try await files.delete(name) }
            }
        }
        // The scan for stray files: only the one file written, in acme's folder.
        let found = directory.contents()
        #expect(found == ["tenants/", "tenants/acme/", "tenants/acme/files/", "tenants/acme/files/kept.txt"], "\(found.sorted())")
    }

    @Test("writes are atomic: a streamed write appears only when complete, an aborted one leaves the old bytes")
    func atomicWrites() async throws {
        try await withTenant(acme) {
            try await files.write("report.csv", bytes: Array("v1".utf8))
            let writer = try await files.makeWriter("report.csv")
            try await writer.write(Array("v2-part1,".utf8))
            #expect(try await files.read("report.csv") == Array("v1".utf8), "readers see the old bytes mid-write")
            #expect(try await files.list() == ["report.csv"], "the temporary file is never listed")
            await writer.abort()
            #expect(try await files.read("report.csv") == Array("v1".utf8))

            let chunks = AsyncStream<[UInt8]> { continuation in
                for index in 0..<100 { continuation.yield(Array(repeating: UInt8(index), count: 1_000)) }
                continuation.finish()
            }
            let size = try await files.write("report.csv", chunks: chunks)
            #expect(size == 100_000)
            var read: [UInt8] = []
            var chunkCount = 0
            for try await chunk in try files.read("report.csv", chunkSize: 4_096) {
                read += chunk
                chunkCount += 1
            }
            #expect(read.count == 100_000 && read[99_999] == 99 && chunkCount == 25)
        }
        let leftovers = directory.contents().filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty, "no temporary file is left: \(leftovers)")
    }

    @Test("a failing streamed write leaves nothing behind")
    func failingStream() async throws {
        struct Broken: Error {}
        // Every `try` of this body sits inside a macro, which the closure's thrown type is not
        // inferred from: say `throws`.
        try await withTenant(acme) { () async throws in
            let chunks = AsyncThrowingStream<[UInt8], any Error> { continuation in
                continuation.yield([1, 2, 3])
                continuation.finish(throwing: Broken())
            }
            await #expect(throws: Broken.self) { try await files.write("half.bin", chunks: chunks) }
            #expect(try await files.list() == [])
        }
        #expect(directory.contents().filter { $0.contains(".tmp-") || $0.hasSuffix("half.bin") }.isEmpty)
    }

    @Test("links planted in a tenant's folder are never followed")
    func plantedLinks() async throws {
        let outside = directory.appending("outside")
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try Data("secret".utf8).write(to: URL(fileURLWithPath: outside + "/secret.txt"))
        try await withTenant(acme) { try await files.write("own.txt", bytes: [1]) }
        // A link to a file outside, planted as one of acme's files.
        try FileManager.default.createSymbolicLink(atPath: files.folder(of: acme) + "/leak.txt", withDestinationPath: outside + "/secret.txt")
        try await withTenant(acme) {
            await expectTenantedError(.fileNotFound) { _ = try await files.read("leak.txt") }
            #expect(try await files.list() == ["own.txt"], "a link is not listed")
            try await files.write("leak.txt", bytes: Array("overwritten".utf8))
            #expect(try await files.read("leak.txt") == Array("overwritten".utf8))
        }
        #expect(try String(contentsOfFile: outside + "/secret.txt", encoding: .utf8) == "secret", "the write replaced the link, not its target")

        // globex's whole folder is a link to the outside folder.
        try FileManager.default.createDirectory(atPath: directory.appending("tenants/globex"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: files.folder(of: globex), withDestinationPath: outside)
        try await withTenant(globex) {
            await expectTenantedError(.storeFailure) { _ = try await files.read("secret.txt") }
            await expectTenantedError(.storeFailure) { try await files.write("planted.txt", bytes: [1]) }
            await expectTenantedError(.storeFailure) { try await files.delete("secret.txt") }
            await expectTenantedError(.storeFailure) { _ = try await files.list() }
        }
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: outside)) == ["secret.txt"])
        try await files.removeAll(of: globex)
        #expect(FileManager.default.fileExists(atPath: outside + "/secret.txt"), "removing a linked folder never removes the target's files")
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: files.folder(of: globex))) == nil, "the planted link itself is gone")
    }

    @Test("folders are 0700 and files 0600 whatever the umask; removeAll deletes the tenant's folder")
    func modesAndRemoval() async throws {
        let previous = umask(0)
        defer { umask(previous) }
        try await withTenant(acme) { try await files.write("a.txt", bytes: [1]) }
        let folder = try FileManager.default.attributesOfItem(atPath: files.folder(of: acme))
        let file = try FileManager.default.attributesOfItem(atPath: files.folder(of: acme) + "/a.txt")
        #expect((folder[.posixPermissions] as? Int) == 0o700)
        #expect((file[.posixPermissions] as? Int) == 0o600)
        try await files.removeAll(of: acme)
        #expect(!FileManager.default.fileExists(atPath: files.folder(of: acme)))
        try await files.removeAll(of: acme)   // nothing left to remove is not an error
    }

    @Test("bad folder templates are refused at configuration time")
    func badTemplates() {
        for template in ["storage/files", "storage/%{tenant}/%{tenant}", "storage/x%{tenant}", "storage/%{bucket}/%{tenant}", "../%{tenant}", "storage/./%{tenant}", "a\0b/%{tenant}"] {
            let error = #expect(throws: TenantedError.self, "\(template.debugDescription)") { try TenantFiles(root: template) }
            #expect(error?.code == .invalidConfiguration)
            #expect(error?.description.contains(template) == false, "the description never carries the path")
        }
    }
}
