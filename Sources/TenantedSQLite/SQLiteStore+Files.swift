import Foundation
import Logging
import NIOPosix
import SQLiteNIO
import Synchronization
import Tenanted

extension SQLiteStore {
    /// Runs file-system work on the thread pool; errors other than Tenanted's become `storeFailure`.
    func onThreadPool<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        do {
            return try await configuration.threadPool.runIfActive(body)
        } catch let error as TenantedError {
            throw error
        } catch {
            throw TenantedError(.storeFailure, "the SQLite store's file-system work failed", underlying: error)
        }
    }

    /// Ready = the database file exists and nobody holds its ready-lock.
    enum Readiness { case ready, absent, held }

    /// `absent` without the database file; `held` while someone holds its ready-lock.
    ///
    /// `isKnownFile`: a listing that just read the file's entry in its directory skips the `stat`.
    /// The lock is probed after the file was seen either way, and a create makes the file appear
    /// (by a rename) only while it holds the lock, so a half-created tenant is never `ready`.
    static func readiness(_ path: String, isKnownFile: Bool = false) -> Readiness {
        guard isKnownFile || fileExists(path) else { return .absent }
        return ReadyLock.isHeld(at: path + ".lock") ? .held : .ready
    }

    static func fileExists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    static func removeFile(_ path: String) {
        unlink(path)
    }

    static func removeDatabaseFiles(_ path: String) {
        for suffix in ["", "-wal", "-shm", "-journal"] { removeFile(path + suffix) }
    }

    /// Creates the directories above `tenant`'s file; those below the root get
    /// ``Configuration/filePermissions``, whatever the umask.
    func makeDirectories(for tenant: TenantID) throws {
        let below = Array(template.components(for: tenant).dropLast())
        let directory = ([root] + below).joined(separator: "/")
        do {
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            try Self.makeDirectories(below, under: root, mode: configuration.filePermissions.directory)
        } catch {
            throw TenantedError(
                .storeFailure, "cannot create the directory of tenant '\(tenant)'", tenant: tenant,
                underlying: error, detail: directory
            )
        }
    }

    /// Creates each of `components` in turn under `root`; a new one gets `mode` (umask-proof).
    static func makeDirectories(_ components: [String], under root: String, mode: UInt16) throws {
        var path = root
        for component in components {
            path += "/" + component
            if mkdir(path, mode_t(mode)) == 0 {
                TenantFileSystem.setMode(path, mode)
            } else if errno != EEXIST {
                throw SystemError("create a directory", errno)
            }
        }
    }

    /// Removes the directories that belong to `tenant` alone, deepest first, when empty.
    func removeTenantDirectories(for tenant: TenantID) {
        let components = template.components(for: tenant)
        var index = components.count - 1
        while index > template.firstTenantComponent {
            index -= 1
            let directory = ([root] + components[...index]).joined(separator: "/")
            if rmdir(directory) != 0 { return }
        }
    }
}
