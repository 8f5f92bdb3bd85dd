import Foundation
import Logging
import SQLiteNIO
public import Tenanted

// Backup, restore, suspension and create-from-template for the SQLite store.
//
// - A backup is `VACUUM INTO` a new owner-only file (a consistent snapshot in one read transaction;
//   the tenant keeps serving reads and writes), then the backup format's header and that snapshot,
//   written under a temporary name, flushed, and linked into place.
// - A restore takes the tenant's ready-lock like a create (so it is invisible until done, and one of
//   two concurrent restores or creates wins), writes the payload to `main.sqlite3.creating`, checks
//   it, migrates it, and renames it into place. With `replace` it waits for writes in progress like a
//   destroy, and swaps the files under the lock.
// - A suspension is a marker file beside the database, `main.sqlite3.suspended` (its content is the
//   reason), written under the ready-lock: pools see it with one `access` on every lease and every
//   write, in every process.
// - Templates live in `<root>/.tenanted-templates/<key>.sqlite3`, made once per migration set. A
//   create copies the template to `main.sqlite3.creating`, flushes it and renames it into place,
//   under the ready-lock, in one trip to the thread pool.
extension SQLiteStore {
    /// The suspension marker of the database at `databasePath`.
    static func suspensionMarker(of databasePath: String) -> String {
        databasePath + ".suspended"
    }

    /// The suspension recorded beside the database at `path`, if any.
    static func readSuspension(_ path: String) -> TenantSuspension? {
        let marker = suspensionMarker(of: path)
        guard access(marker, F_OK) == 0 else { return nil }
        let reason = (try? String(contentsOfFile: marker, encoding: .utf8)) ?? ""
        return TenantSuspension(reason: reason.isEmpty ? nil : reason)
    }

    public var backupKind: String { "sqlite" }

    public func openIgnoringSuspension(_ tenant: TenantID) async throws -> SQLitePool {
        try await open(tenant, ignoringSuspension: true)
    }

    // MARK: Suspension

    public func suspend(_ tenant: TenantID, reason: String?) async throws {
        let permissions = configuration.filePermissions
        try await withWritesStopped(tenant, "suspend") { path in
            let marker = Self.suspensionMarker(of: path)
            let temporary = marker + ".new"
            Self.removeFile(temporary)
            let descriptor = try TenantFileSystem.createNew(temporary, permissions)
            do {
                try Array((reason ?? "").utf8).withUnsafeBytes { buffer in try TenantFileSystem.write(descriptor, buffer) }
                try TenantFileSystem.syncAndClose(descriptor)
            } catch {
                Self.removeFile(temporary)
                throw error
            }
            try TenantFileSystem.renameDurably(temporary, marker)
        }
    }

    public func resume(_ tenant: TenantID) async throws {
        try await withWritesStopped(tenant, "resume") { path in
            Self.removeFile(Self.suspensionMarker(of: path))
        }
    }

    public func suspension(of tenant: TenantID) async throws -> TenantSuspension? {
        let path = databasePath(for: tenant)
        guard try await settledReady(path) else { throw TenantedError.notFound(tenant, "suspension(of:)") }
        return try await onThreadPool { Self.readSuspension(path) }
    }

    /// Runs `body` with the database path while holding `tenant`'s ready-lock exclusively, waiting for
    /// writes in progress (they hold it shared) up to the busy timeout, as a destroy does.
    /// - Throws: `tenantNotFound` when the tenant does not exist or is being created or destroyed.
    private func withWritesStopped(_ tenant: TenantID, _ operation: String, _ body: @escaping @Sendable (String) throws -> Void) async throws {
        let path = databasePath(for: tenant)
        let lock = try await takeReadyLockStoppingWrites(tenant, path: path, operation: operation)
        do {
            try await onThreadPool {
                guard Self.fileExists(path) else { throw TenantedError.notFound(tenant, operation) }
                try body(path)
            }
            lock.release()
        } catch {
            lock.release()
            throw storeError(error, tenant, "\(operation) tenant '\(tenant)'", path)
        }
    }

    /// `tenant`'s ready-lock, taken exclusively once writes in progress (shared holders) ended.
    /// - Throws: `tenantNotFound` when there is no tenant folder or a create or destroy holds the lock.
    func takeReadyLockStoppingWrites(_ tenant: TenantID, path: String, operation: String) async throws -> ReadyLockBox {
        let deadline = ContinuousClock.now + .milliseconds(max(busyTimeoutMilliseconds, 1000))
        let mode = configuration.filePermissions.file
        while true {
            let lock = try await onThreadPool { () throws -> ReadyLockBox? in
                guard Self.fileExists(path) else { throw TenantedError.notFound(tenant, operation) }
                do {
                    return ReadyLockBox(try ReadyLock(exclusiveAt: path + ".lock", mode: mode, changes: changes))
                } catch let error as SystemError where error.code == EWOULDBLOCK && !ReadyLock.isHeld(at: path + ".lock") {
                    return nil
                } catch let error as SystemError where error.code == ENOENT || error.code == EWOULDBLOCK {
                    throw TenantedError.notFound(tenant, operation)
                }
            }
            if let lock { return lock }
            guard ContinuousClock.now < deadline else {
                throw TenantedError(
                    .storeFailure,
                    "could not \(operation) tenant '\(tenant)': its database stayed busy with writes for \(max(busyTimeoutMilliseconds, 1000)) ms",
                    tenant: tenant
                )
            }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    // MARK: Backup and restore

    public func backup(_ tenant: TenantID, to destination: String, header: TenantBackupHeader) async throws {
        let path = databasePath(for: tenant)
        guard try await settledReady(path) else { throw TenantedError.notFound(tenant, "backup") }
        let snapshot = destination + ".snapshot-\(UUID().uuidString.prefix(8))"
        let permissions = configuration.filePermissions
        do {
            // VACUUM INTO keeps the mode of an existing empty file.
            try await onThreadPool { try TenantFileSystem.createEmpty(snapshot, permissions) }
            let connection = try await Self.connect(
                path: path, create: false, reader: false, busyTimeout: busyTimeoutMilliseconds, configuration: configuration
            )
            do {
                _ = try await connection.query("VACUUM INTO ?", [.text(snapshot)])
            } catch {
                await connection.closeEvenIfCancelled()
                throw error
            }
            await connection.closeEvenIfCancelled()
            try await onThreadPool {
                defer { Self.removeFile(snapshot) }
                try TenantBackupArchive.write(header: header, payload: snapshot, to: destination, permissions: permissions)
            }
        } catch {
            try? await onThreadPool { Self.removeFile(snapshot) }
            throw storeError(error, tenant, "back up tenant '\(tenant)'", path)
        }
    }

    public func restore(
        _ tenant: TenantID, from archive: TenantBackupArchive, replace: Bool, prepare: (SQLitePool) async throws -> Void
    ) async throws {
        let path = databasePath(for: tenant)
        let temporary = path + ".creating"
        let permissions = configuration.filePermissions
        let lock: ReadyLockBox
        if replace, try await onThreadPool({ Self.fileExists(path) }) {
            lock = try await takeReadyLockStoppingWrites(tenant, path: path, operation: "restore")
        } else {
            lock = try await takeReadyLock(tenant, path: path)
        }
        let existed = try await onThreadPool { Self.fileExists(path) }
        if existed && !replace {
            lock.release()
            throw TenantedError.exists(tenant)
        }
        var preparing = false
        do {
            try await onThreadPool {
                Self.removeDatabaseFiles(temporary)
                try archive.extractPayload(to: temporary, permissions: permissions)
            }
            let pool = makePool(tenant, path: temporary, create: false)
            do {
                try await pool.write { connection in
                    let check: String?
                    do {
                        check = try await connection.query("PRAGMA quick_check").first?.column("quick_check")?.string
                    } catch {
                        throw TenantedError(.badBackup, "the backup file does not hold an SQLite database; nothing was restored", tenant: tenant, underlying: error)
                    }
                    guard check == "ok" else {
                        throw TenantedError(.badBackup, "the backup's database is damaged (quick_check failed); nothing was restored", tenant: tenant)
                    }
                }
                preparing = true
                try await prepare(pool)
                preparing = false
                try await pool.write { connection in
                    _ = try await connection.query("PRAGMA wal_checkpoint(TRUNCATE)")
                }
            } catch let error as TenantedError where error.code == .badBackup {
                await pool.close()
                throw error
            } catch {
                await pool.close()
                if preparing { throw error }
                throw TenantedError(.badBackup, "the backup file does not hold an SQLite database; nothing was restored", tenant: tenant, underlying: error)
            }
            await pool.close()
            try await onThreadPool {
                Self.removeFile(temporary + "-wal")
                Self.removeFile(temporary + "-shm")
                try TenantFileSystem.sync(temporary)
                if existed { Self.removeDatabaseFiles(path) }
                Self.removeFile(Self.suspensionMarker(of: path))
                try TenantFileSystem.renameDurably(temporary, path)
            }
            lock.release()
        } catch {
            try? await onThreadPool {
                Self.removeDatabaseFiles(temporary)
                if existed {
                    lock.release()
                } else {
                    lock.remove()
                    removeTenantDirectories(for: tenant)
                }
            }
            throw preparing ? error : storeError(error, tenant, "restore tenant '\(tenant)'", path)
        }
    }

    // MARK: Create from a template

    public func create(
        _ tenant: TenantID, from template: TenantTemplate<SQLitePool>, prepare: ((SQLitePool) async throws -> Void)?
    ) async throws {
        let source = try await templateFile(template, tenant: tenant)
        guard prepare == nil else {
            // With a seed: the ordinary create, starting from a copy of the template.
            let permissions = configuration.filePermissions
            try await create(tenant, startingWith: { temporary in
                try TenantFileSystem.copyToNewFile(from: source, to: temporary, permissions)
            }, prepare: prepare!)
            return
        }
        let path = databasePath(for: tenant)
        for attempt in 1...5 {
            if try await onThreadPool({ try copyIntoPlace(tenant, template: source, path: path) }) { return }
            if attempt < 5 { try await Task.sleep(for: .milliseconds(2)) }
        }
        throw TenantedError.exists(tenant)
    }

    /// Under the ready-lock: copies the template to the temporary name, flushes it, renames it into
    /// place. `false` when the lock is held by someone else (another create, an `exists` probe).
    private func copyIntoPlace(_ tenant: TenantID, template source: String, path: String) throws -> Bool {
        let temporary = path + ".creating"
        let permissions = configuration.filePermissions
        try makeDirectories(for: tenant)
        let lock: ReadyLock
        do {
            lock = try ReadyLock(exclusiveAt: path + ".lock", mode: permissions.file, changes: changes)
        } catch where error.code == EWOULDBLOCK {
            return false
        } catch {
            throw storeError(error, tenant, "create tenant '\(tenant)'", path)
        }
        if Self.fileExists(path) { throw TenantedError.exists(tenant) }
        do {
            Self.removeDatabaseFiles(temporary)
            try TenantFileSystem.copyToNewFile(from: source, to: temporary, permissions)
            Self.removeFile(Self.suspensionMarker(of: path))
            guard rename(temporary, path) == 0 else { throw SystemError("rename the new database into place", errno) }
        } catch {
            Self.removeDatabaseFiles(temporary)
            lock.remove()
            removeTenantDirectories(for: tenant)
            throw storeError(error, tenant, "create tenant '\(tenant)'", path)
        }
        return true
    }

    /// The template file of `template`'s key, made (migrated, checkpointed, flushed, renamed into
    /// place) when missing. Concurrent makers each build their own and the last rename wins; every
    /// one is complete. Templates of other keys (older migration sets) are removed.
    func templateFile(_ template: TenantTemplate<SQLitePool>, tenant: TenantID) async throws -> String {
        let folder = root + "/.tenanted-templates"
        let path = folder + "/" + template.key + ".sqlite3"
        if Self.fileExists(path) { return path }
        let building = path + ".building-\(UUID().uuidString.prefix(8))"
        let keep = template.key + ".sqlite3"
        let permissions = configuration.filePermissions
        do {
            try await onThreadPool {
                try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
                try Self.makeDirectories([".tenanted-templates"], under: root, mode: permissions.directory)
                try TenantFileSystem.createEmpty(building, permissions)
            }
            try await prepareNewFile(tenant, at: building) { try await template.build($0) }
            try await onThreadPool {
                Self.removeFile(building + "-wal")
                Self.removeFile(building + "-shm")
                try TenantFileSystem.sync(building)
                try TenantFileSystem.renameDurably(building, path)
                for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
                where name.hasSuffix(".sqlite3") && name != keep {
                    Self.removeFile(folder + "/" + name)
                }
            }
            configuration.logger.info("made the tenant template", metadata: ["key": "\(template.key)"])
            return path
        } catch {
            try? await onThreadPool {
                Self.removeDatabaseFiles(building)
                rmdir(folder)  // only when empty: a failed first template leaves no folder
            }
            if error is TenantedError { throw storeError(error, tenant, "make the tenant template", path) }
            throw TenantedError(.storeFailure, "could not make the tenant template", tenant: tenant, underlying: error, detail: path)
        }
    }
}
