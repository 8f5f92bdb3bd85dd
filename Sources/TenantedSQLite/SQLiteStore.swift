import Foundation
import Logging
import NIOPosix
import SQLiteNIO
import Synchronization
public import Tenanted

/// The embedded default store: one SQLite file per tenant.
///
/// Files live at ``Configuration/pathTemplate`` under ``Configuration/root``; the default is
/// `storage/tenants/<tenant>/main.sqlite3`. Beside each database is its ready-lock file
/// (`main.sqlite3.lock`), and, while connections are open, SQLite's `-wal` and `-shm` files.
///
/// **Creation is atomic and invisible until done.** ``create(_:prepare:)`` takes the tenant's
/// ready-lock (an exclusive `flock`), builds the database under a temporary name
/// (`main.sqlite3.creating`), runs `prepare` (migrations, seed), checkpoints, and renames it into
/// place as its last step. ``exists(_:)`` and ``tenants()`` report a tenant only when its file exists
/// *and* its ready-lock is free, so a half-created tenant is never visible — in this process or in
/// another — and a creator killed halfway leaves only a temporary file, which the next create
/// removes. The lock is never waited for (a waiting thread-pool thread could be the one the holder
/// needs): of two concurrent creates of one tenant, one wins and the other gets
/// ``TenantedError/Code/tenantExists`` at once.
///
/// **Opening never creates.** Connections open the file with the URI parameter `mode=rw`, so a
/// tenant destroyed meanwhile is `tenantNotFound`, never an empty new file.
public struct SQLiteStore: TenantStore {
    public typealias Pool = SQLitePool

    /// The options in force.
    public let configuration: Configuration
    /// The absolute root directory.
    public let root: String
    let template: PathTemplate
    let busyTimeoutMilliseconds: Int
    /// The storage's change counter, shared by every process on it (``StorageChanges``).
    let changes: StorageChanges

    /// Creates a store.
    /// - Throws: ``TenantedError/Code/invalidConfiguration`` for a bad template, root or limit.
    public init(configuration: Configuration = .init()) throws(TenantedError) {
        template = try PathTemplate(configuration.pathTemplate)
        busyTimeoutMilliseconds = try configuration.busyTimeoutMilliseconds()
        if configuration.maximumReaders < 0 {
            throw TenantedError(.invalidConfiguration, "maximumReaders must be 0 or more, got \(configuration.maximumReaders)")
        }
        if configuration.root.isEmpty {
            throw TenantedError(.invalidConfiguration, "the SQLite store's root is empty")
        }
        if configuration.root.unicodeScalars.contains("\0") {
            throw TenantedError(.invalidConfiguration, "the SQLite store's root contains a NUL character")
        }
        var root = configuration.root
        if !root.hasPrefix("/") {
            root = FileManager.default.currentDirectoryPath + "/" + root
        }
        if configuration.fullCheckInterval < .zero {
            throw TenantedError(.invalidConfiguration, "fullCheckInterval must be zero or more")
        }
        self.root = URL(fileURLWithPath: root).standardizedFileURL.path
        self.configuration = configuration
        // In the deepest folder every tenant's file sits under (`storage/tenants` for the default
        // template), so stores whose roots and templates name the same files share one counter.
        var folder = [self.root]
        for pieces in template.components.dropLast() {
            guard pieces.count == 1, case .literal(let name) = pieces[0] else { break }
            folder.append(name)
        }
        changes = StorageChanges(
            path: (folder + [".tenanted-changes"]).joined(separator: "/"),
            interval: configuration.fullCheckInterval, mode: configuration.filePermissions.file
        )
    }

    /// The absolute path of `tenant`'s database file (whether or not it exists).
    public func databasePath(for tenant: TenantID) -> String {
        ([root] + template.components(for: tenant)).joined(separator: "/")
    }

    // MARK: TenantStore

    public func exists(_ tenant: TenantID) async throws -> Bool {
        try await settledReady(databasePath(for: tenant))
    }

    public func tenants() async throws -> [TenantID] {
        let (ready, held) = try await listTenants()
        var found = ready
        for tenant in held where try await settledReady(databasePath(for: tenant)) {
            found.append(tenant)
        }
        return found.sorted()
    }

    /// Whether the tenant at `path` is ready, asking again a few times, 5 ms apart, while its
    /// ready-lock is held. A create or destroy holds the lock for its whole length; but a child
    /// process being started (between fork and exec) also holds, for a moment, a copy of every lock
    /// open in this process — that must not make a ready tenant look absent.
    func settledReady(_ path: String) async throws -> Bool {
        for attempt in 1...10 {
            switch try await onThreadPool({ Self.readiness(path) }) {
            case .ready: return true
            case .absent: return false
            case .held: if attempt < 10 { try await Task.sleep(for: .milliseconds(5)) }
            }
        }
        return false
    }

    public func open(_ tenant: TenantID) async throws -> SQLitePool {
        try await open(tenant, ignoringSuspension: false)
    }

    /// Opens a pool; a suspended tenant is refused unless `ignoringSuspension` (its writes are still
    /// refused by the write guard).
    func open(_ tenant: TenantID, ignoringSuspension: Bool) async throws -> SQLitePool {
        let path = databasePath(for: tenant)
        // A tenant replaced between the identity read and the writer's open is caught by the
        // writer's own check (it opened another file than the identity names): try again.
        for attempt in 1...3 {
            let (identity, writeGuard) = try await probeForOpen(tenant, path: path, checksSuspension: !ignoringSuspension)
            let pool = makePool(tenant, path: path, create: false, identity: identity, writeGuard: writeGuard)
            do {
                // Open the writer now: a cold open pays for it here, and a broken file fails here.
                try await pool.openWriter()
                return pool
            } catch let error as TenantedError where error.code == .tenantNotFound && attempt < 3 {
                await pool.close()
                continue
            } catch {
                await pool.close()
                throw storeError(error, tenant, "open the database of tenant '\(tenant)'", path)
            }
        }
        throw TenantedError.notFound(tenant, "open")
    }

    /// The file checks before a pool opens: the database's identity, its ready-lock (opened for the
    /// write guard, and probed: free means ready), and the suspension marker.
    ///
    /// They run on the calling task, not on the thread pool: a `stat`, an `open`, two `fstat`/`stat`,
    /// two non-blocking `flock`s and an `access` on local files take microseconds, less than one hop
    /// to the thread pool and back (the same reasoning as ``isCurrent(_:)``, which runs a `stat` on
    /// every lease). While a create or destroy holds the ready-lock, it asks again, like
    /// ``settledReady(_:)``.
    func probeForOpen(_ tenant: TenantID, path: String, checksSuspension: Bool) async throws -> (FileIdentity, WriteGuard) {
        for attempt in 1...10 {
            switch Self.openProbe(tenant, path: path, checksSuspension: checksSuspension, writerWait: .milliseconds(busyTimeoutMilliseconds)) {
            case .ready(let identity, let writeGuard): return (identity, writeGuard)
            case .absent: throw TenantedError.notFound(tenant, "open")
            case .suspended(let suspension): throw TenantedError.suspended(tenant, reason: suspension.reason)
            case .held: if attempt < 10 { try await Task.sleep(for: .milliseconds(5)) }
            }
        }
        throw TenantedError.notFound(tenant, "open")
    }

    /// What ``openProbe(_:path:checksSuspension:writerWait:)`` found.
    enum OpenProbe {
        /// Ready: the database's identity, and the write guard on its ready-lock (open).
        case ready(FileIdentity, WriteGuard)
        /// No database file, or no ready-lock beside it.
        case absent
        /// A create or destroy holds the ready-lock.
        case held
        /// Suspended (checked only when asked).
        case suspended(TenantSuspension)
    }

    /// One pass of system calls: the database's identity, the write guard (which opens the
    /// ready-lock and checks it is the current file), a probe of the lock on that same descriptor,
    /// then the suspension marker. A guard that is not returned is closed here.
    static func openProbe(_ tenant: TenantID, path: String, checksSuspension: Bool, writerWait: Duration) -> OpenProbe {
        guard let identity = FileIdentity.of(path),
            let writeGuard = WriteGuard(
                tenant: tenant, databasePath: path, identity: identity, checksSuspension: checksSuspension, writerWait: writerWait
            )
        else { return .absent }
        if writeGuard.isHeldExclusively {
            writeGuard.closeFile()
            return .held
        }
        if checksSuspension, let suspension = readSuspension(path) {
            writeGuard.closeFile()
            return .suspended(suspension)
        }
        return .ready(identity, writeGuard)
    }

    public func close(_ pool: SQLitePool) async {
        await pool.close()
    }

    /// Whether `pool` still serves its tenant: `false` once the tenant was destroyed, re-created,
    /// restored or suspended, here or in another process.
    ///
    /// The full check is a `stat` of the database path and an `access` of the suspension marker
    /// (``SQLitePool/isCurrent``). It is skipped while the storage's change counter, which every
    /// process moves when it changes a tenant's files through a store, has not moved since the pool's
    /// last full check and that check is younger than ``Configuration/fullCheckInterval``: then a
    /// lease reads one integer from shared memory.
    public func isCurrent(_ pool: SQLitePool) -> Bool {
        guard let writeGuard = pool.writeGuard else { return true }
        return writeGuard.isCurrent(changes: changes)
    }

    /// The database file `pool` opened (device and inode) and the storage's change counter: another
    /// file in the tenant's place, and every create, destroy, restore, suspension and rollback
    /// through a store on this storage (in any process), give another stamp. `nil` without a
    /// counter (``Configuration/fullCheckInterval`` zero, or none could be made).
    ///
    /// What the store cannot see — a migration log changed by hand, an older database copied over
    /// the file in place — is not seen by processes that already found the tenant migrated, until
    /// the counter moves.
    public func migrationStamp(of pool: SQLitePool) -> TenantMigrationStamp? {
        guard let writeGuard = pool.writeGuard, let generation = changes.generation(now: StorageChanges.now()) else { return nil }
        return TenantMigrationStamp([writeGuard.identity.device, writeGuard.identity.inode, generation])
    }

    /// Moves the storage's change counter, so every process reads `tenant`'s migration log again.
    public func migrationsReverted(_ tenant: TenantID) async {
        let changes = self.changes
        _ = try? await onThreadPool { changes.bump() }
    }

    public func create(_ tenant: TenantID, prepare: (SQLitePool) async throws -> Void) async throws {
        let permissions = configuration.filePermissions
        // SQLite keeps the mode of an existing (empty) file, and gives its -wal and -shm the same.
        try await create(tenant, startingWith: { try TenantFileSystem.createEmpty($0, permissions) }, prepare: prepare)
    }

    /// The create: `start` makes the temporary file (empty, or a template's copy) under the lock.
    func create(
        _ tenant: TenantID, startingWith start: @escaping @Sendable (String) throws -> Void, prepare: (SQLitePool) async throws -> Void
    ) async throws {
        let path = databasePath(for: tenant)
        let temporary = path + ".creating"
        let lock = try await takeReadyLock(tenant, path: path)
        if try await onThreadPool({ Self.fileExists(path) }) {
            lock.release()
            throw TenantedError.exists(tenant)
        }
        // What `prepare` throws is the caller's own error: rethrow it as it is, not as a store failure.
        var preparing = false
        do {
            try await onThreadPool {
                Self.removeDatabaseFiles(temporary)
                try start(temporary)
            }
            try await prepareNewFile(tenant, at: temporary) { pool in
                preparing = true
                try await prepare(pool)
                preparing = false
            }
            try await onThreadPool {
                Self.removeFile(temporary + "-wal")
                Self.removeFile(temporary + "-shm")
                Self.removeFile(Self.suspensionMarker(of: path))
                guard rename(temporary, path) == 0 else { throw SystemError("rename the new database into place", errno) }
            }
            lock.release()
        } catch {
            try? await onThreadPool {
                Self.removeDatabaseFiles(temporary)
                lock.remove()
                removeTenantDirectories(for: tenant)
            }
            throw preparing ? error : storeError(error, tenant, "create tenant '\(tenant)'", path)
        }
    }

    /// Runs `prepare` on a pool over the new file at `path`, then folds the WAL into the file and
    /// closes the pool, so that renaming the file moves everything (its `-wal` and `-shm` are then
    /// the caller's to remove).
    func prepareNewFile(_ tenant: TenantID, at path: String, _ prepare: (SQLitePool) async throws -> Void) async throws {
        let pool = makePool(tenant, path: path, create: true)
        do {
            try await prepare(pool)
            try await pool.write { connection in
                _ = try await connection.query("PRAGMA wal_checkpoint(TRUNCATE)")
            }
        } catch {
            await pool.close()
            throw error
        }
        await pool.close()
    }

    /// Takes `tenant`'s ready-lock for a create, or throws `tenantExists` when someone holds it.
    ///
    /// `exists` and listing probe the lock with a shared lock held for microseconds; a few short,
    /// non-blocking retries keep such a probe from passing for a concurrent creator, without ever
    /// parking a thread-pool thread on the lock.
    func takeReadyLock(_ tenant: TenantID, path: String) async throws -> ReadyLockBox {
        var attempt = 0
        while true {
            let lock = try await onThreadPool { () throws -> ReadyLockBox? in
                try makeDirectories(for: tenant)
                do {
                    return ReadyLockBox(try ReadyLock(exclusiveAt: path + ".lock", mode: configuration.filePermissions.file, changes: changes))
                } catch let error as SystemError where error.code == EWOULDBLOCK {
                    return nil
                } catch {
                    throw storeError(error, tenant, "create tenant '\(tenant)'", path)
                }
            }
            if let lock { return lock }
            attempt += 1
            if attempt >= 5 { throw TenantedError.exists(tenant) }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    public func destroy(_ tenant: TenantID) async throws {
        let path = databasePath(for: tenant)
        // Writes of open pools (in any process) hold the ready-lock shared while they run: wait for
        // them, a few milliseconds at a time and never parked on the lock, up to the busy timeout.
        let deadline = ContinuousClock.now + .milliseconds(max(busyTimeoutMilliseconds, 1000))
        while true {
            let done = try await onThreadPool { () throws -> Bool in
                do {
                    try destroyNow(tenant, path: path)
                    return true
                } catch is WritesInProgress {
                    return false
                }
            }
            if done { return }
            guard ContinuousClock.now < deadline else {
                throw TenantedError(
                    .storeFailure,
                    "could not destroy tenant '\(tenant)': its database stayed busy with writes for \(max(busyTimeoutMilliseconds, 1000)) ms",
                    tenant: tenant
                )
            }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    /// The ready-lock is held shared only: writes of open pools are in progress.
    private struct WritesInProgress: Error {}

    /// Destroys at once; throws ``WritesInProgress`` when the ready-lock is held shared only.
    private func destroyNow(_ tenant: TenantID, path: String) throws {
        let lock: ReadyLock
        do {
            lock = try ReadyLock(exclusiveAt: path + ".lock", mode: configuration.filePermissions.file, changes: changes)
        } catch where error.code == EWOULDBLOCK && !ReadyLock.isHeld(at: path + ".lock") {
            throw WritesInProgress()
        } catch where error.code == ENOENT || error.code == EWOULDBLOCK {
            // No directory: no tenant. Held: it is being created or destroyed, so it does not exist yet.
            throw TenantedError.notFound(tenant, "destroyTenant")
        } catch {
            throw storeError(error, tenant, "destroy tenant '\(tenant)'", path)
        }
        guard Self.fileExists(path) else {
            lock.remove()
            removeTenantDirectories(for: tenant)
            throw TenantedError.notFound(tenant, "destroyTenant")
        }
        Self.removeDatabaseFiles(path)
        Self.removeFile(Self.suspensionMarker(of: path))
        if Self.fileExists(path) {
            throw storeError(SystemError("delete the database file", errno), tenant, "destroy tenant '\(tenant)'", path)
        }
        lock.remove()
        removeTenantDirectories(for: tenant)
    }

    func storeError(_ error: any Error, _ tenant: TenantID, _ operation: String, _ path: String) -> any Error {
        if var error = error as? TenantedError {
            if error.tenant == nil { error.tenant = tenant }
            return error
        }
        return TenantedError(.storeFailure, "could not \(operation)", tenant: tenant, underlying: error, detail: path)
    }
}

/// Carries the ready-lock across the thread-pool boundary and releases it exactly once.
final class ReadyLockBox: Sendable {
    private let lock: Mutex<ReadyLock?>

    init(_ readyLock: consuming ReadyLock) { lock = Mutex(.some(readyLock)) }

    /// Releases the lock, keeping the lock file.
    func release() {
        lock.withLock { $0 = nil }
    }

    /// Deletes the lock file while holding the lock, then releases it.
    func remove() {
        lock.withLock { $0.take()?.remove() }
    }
}
