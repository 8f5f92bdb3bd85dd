import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A fresh, empty directory under the system's temporary directory, deleted with everything in it
/// when the last reference goes away.
///
/// Keep it in a stored property of the suite: Swift Testing makes one suite instance per test, so
/// every test gets its own directory and it lives exactly as long as the test.
package final class TemporaryDirectory: Sendable {
    /// The directory's absolute path, without symbolic links (so it compares equal to the store's root).
    package let path: String

    package init() throws {
        let base = FileManager.default.temporaryDirectory.resolvingSymlinksInPath()
        let url = base.appendingPathComponent("tenanted-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
        path = url.standardizedFileURL.path
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// The absolute path of `relative` inside this directory.
    package func appending(_ relative: String) -> String {
        path + "/" + relative
    }

    /// Every file and directory under this directory, as paths relative to it; directories end in `/`.
    ///
    /// Without the SQLite store's change counter (`.tenanted-changes`, beside the tenants' folders):
    /// it belongs to the storage, not to any tenant, and appears with the first use of the store.
    package func contents() -> Set<String> {
        var found: Set<String> = []
        func walk(_ relative: String) {
            let absolute = relative.isEmpty ? path : appending(relative)
            guard let entries = try? FileManager.default.contentsOfDirectory(atPath: absolute) else { return }
            for entry in entries where entry != ".tenanted-changes" {
                let child = relative.isEmpty ? entry : relative + "/" + entry
                var isDirectory: ObjCBool = false
                _ = FileManager.default.fileExists(atPath: appending(child), isDirectory: &isDirectory)
                if isDirectory.boolValue {
                    found.insert(child + "/")
                    walk(child)
                } else {
                    found.insert(child)
                }
            }
        }
        walk("")
        return found
    }

    /// Creates a file (and the directories above it) holding `text`. Written with `write(2)` and no
    /// `fsync`: Foundation's `Data.write(to:)` syncs every file, and a test making thousands of them
    /// held a thread of Swift's two-thread cooperative pool for half a minute under load (seen with
    /// `StallWatch`), stalling every other test's tasks.
    package func makeFile(_ relative: String, text: String = "not a tenant") throws {
        let path = appending(relative)
        try FileManager.default.createDirectory(
            at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true
        )
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
        defer { close(descriptor) }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
            written += count
        }
    }

    /// Creates a directory (and the directories above it).
    package func makeDirectory(_ relative: String) throws {
        try FileManager.default.createDirectory(atPath: appending(relative), withIntermediateDirectories: true)
    }

    /// Whether a file or directory exists at `relative`.
    package func exists(_ relative: String) -> Bool {
        FileManager.default.fileExists(atPath: appending(relative))
    }
}
