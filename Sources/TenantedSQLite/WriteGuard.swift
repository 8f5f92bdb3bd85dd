#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import Tenanted

/// Keeps a write from landing in a tenant's database after another process destroyed or replaced it.
///
/// A pool's writer holds a *shared* `flock` on the tenant's ready-lock file for the length of each
/// write, and checks, while holding it, that the database path still names the file the pool opened.
/// A destroy takes the *exclusive* lock before it deletes anything, so it waits for writes in
/// progress (they are acknowledged, in the database as it was) and every later write either finds
/// the lock taken (the tenant is being destroyed) or the file gone or replaced: it is refused with
/// ``Tenanted/TenantedError/Code/tenantNotFound`` and never acknowledged into a deleted file.
///
/// The pool has one writer connection, so at most one write holds the lock at a time: a shared
/// lock taken twice on one descriptor, and released by one of the two, cannot happen.
///
/// It is also the tenant's **writer lock** across processes (Linux): each write first takes an
/// exclusive open-file-description lock (`F_OFD_SETLK`, independent of `flock`) on the first byte
/// of the same file, without blocking, and while another pool of the tenant (in this process or
/// another) holds it, waits by sleeping its task and asking again, up to the busy timeout. So a
/// writer waiting for another process's write never sleeps in libsqlite3's busy handler, which
/// would hold a thread of the store's thread pool (one per core) and stop every other tenant's
/// queries meanwhile. Only a writer outside Tenanted (the `sqlite3` shell) still makes a statement
/// wait in the busy handler.
final class WriteGuard: Sendable {
    let tenant: TenantID
    let databasePath: String
    let identity: FileIdentity
    /// The ready-lock file, opened when the pool opened (read-write where allowed); closed by
    /// ``closeFile()``.
    private let descriptor: Int32
    /// The suspension marker beside the database (SQLiteStore+Operations.swift).
    private let markerPath: String
    /// Whether the writer lock can be taken on ``descriptor`` (opened read-write, on Linux).
    private let hasWriterLock: Bool
    /// How long a write waits for another pool's writer lock: the store's busy timeout.
    let writerWait: Duration

    /// Whether writes are refused while the tenant is suspended; `false` for the pools that status
    /// reads and backups open on a suspended tenant.
    private let checksSuspension: Bool

    /// Opens the guard of the database at `databasePath`, whose identity the pool verified; a write
    /// waits up to `writerWait` for another pool's writer lock.
    /// Returns `nil` when the ready-lock file is missing or is not the one beside that database.
    init?(
        tenant: TenantID, databasePath: String, identity: FileIdentity, checksSuspension: Bool = true, writerWait: Duration
    ) {
        let lockPath = databasePath + ".lock"
        // Read-write for the writer lock (a write lock needs it); read-only where that is refused.
        var descriptor = open(lockPath, O_RDWR | O_CLOEXEC)
        var hasWriterLock = Self.writerLocksExist
        if descriptor < 0 {
            descriptor = open(lockPath, O_RDONLY | O_CLOEXEC)
            hasWriterLock = false
        }
        guard descriptor >= 0 else { return nil }
        // The lock file must be the current one: a destroy takes its lock on the current file.
        guard let held = FileIdentity.of(descriptor: descriptor), held == FileIdentity.of(lockPath) else {
            close(descriptor)
            return nil
        }
        self.tenant = tenant
        self.databasePath = databasePath
        self.identity = identity
        self.descriptor = descriptor
        self.markerPath = SQLiteStore.suspensionMarker(of: databasePath)
        self.checksSuspension = checksSuspension
        self.hasWriterLock = hasWriterLock
        self.writerWait = writerWait
    }

    /// Whether the tenant is suspended (by this process or another): one `access`.
    var isSuspended: Bool { access(markerPath, F_OK) == 0 }

    /// Whether the database path still names the file the pool opened.
    var isCurrent: Bool { FileIdentity.of(databasePath) == identity }

    /// The storage's change counter when the last full check passed (`UInt64.max`: never).
    private let checkedGeneration = Atomic<UInt64>(.max)
    /// When the last full check passed (``StorageChanges/now()``).
    private let checkedAt = Atomic<UInt64>(0)

    /// Whether the pool still serves the tenant as the storage holds it: the database path names
    /// the file the pool opened and the tenant is not suspended.
    ///
    /// The full check (a `stat` and an `access`) runs only when the storage's change counter moved
    /// since the last one passed (a tenant was replaced or removed through the store, by any
    /// process), when the last one is older than the counter's interval, or when there is no counter;
    /// otherwise this reads one integer from shared memory.
    func isCurrent(changes: StorageChanges) -> Bool {
        let now = StorageChanges.now()
        // Read before the check, so a change that lands during the check moves the counter past it.
        guard let generation = changes.generation(now: now) else { return isCurrent && !isSuspended }
        if generation == checkedGeneration.load(ordering: .relaxed), now &- checkedAt.load(ordering: .relaxed) < changes.interval {
            return true
        }
        guard isCurrent && !isSuspended else { return false }
        checkedAt.store(now, ordering: .relaxed)
        checkedGeneration.store(generation, ordering: .relaxed)
        return true
    }

    /// Takes the shared lock and checks the file; throws when the tenant is being destroyed or was
    /// destroyed or replaced. Never waits: an exclusive holder is a destroy in progress.
    func enter() throws(TenantedError) {
        var result: Int32
        repeat { result = flock(descriptor, LOCK_SH | LOCK_NB) } while result != 0 && errno == EINTR
        if result != 0 {
            throw TenantedError(.tenantNotFound, "tenant '\(tenant)' is being destroyed; the write was refused", tenant: tenant)
        }
        guard isCurrent else {
            leave()
            throw Self.staleError(tenant)
        }
        if checksSuspension, isSuspended {
            leave()
            throw TenantedError.suspended(tenant, reason: nil)
        }
    }

    /// Whether a create or destroy holds the ready-lock exclusively right now: a shared lock taken
    /// and dropped at once on the guard's descriptor, never waited for. Call it before the pool's
    /// first write only (a write holds the shared lock on this same descriptor).
    var isHeldExclusively: Bool {
        var result: Int32
        repeat { result = flock(descriptor, LOCK_SH | LOCK_NB) } while result != 0 && errno == EINTR
        if result != 0 { return errno == EWOULDBLOCK }
        flock(descriptor, LOCK_UN)
        return false
    }

    /// Releases the shared lock taken by ``enter()``.
    func leave() {
        flock(descriptor, LOCK_UN)
    }

    // MARK: The writer lock

    #if os(Linux)
    private static let writerLocksExist = true
    /// `F_OFD_SETLK` (Linux 3.15), which Glibc's module does not export.
    private static let setOpenFileLock: Int32 = 37
    #else
    private static let writerLocksExist = false
    #endif

    /// Takes the writer lock if no other pool of the tenant holds it; never waits. `true` also where
    /// there is no writer lock (then SQLite's busy handler is the only wait).
    func tryLockWriter() -> Bool {
        #if os(Linux)
        guard hasWriterLock else { return true }
        var result: Int32
        repeat { result = setWriterLock(F_WRLCK) } while result != 0 && errno == EINTR
        // EAGAIN/EACCES: held by another pool. Anything else (a kernel without OFD locks: EINVAL)
        // leaves the wait to SQLite's busy handler, as before there was a writer lock.
        return result == 0 || (errno != EAGAIN && errno != EACCES)
        #else
        return true
        #endif
    }

    /// Takes the writer lock, waiting (a task sleep between attempts, never a blocked thread) while
    /// another pool of the tenant holds it.
    /// - Throws: ``Tenanted/TenantedError/Code/storeFailure`` once ``writerWait`` has passed; the
    ///   write was not started. `CancellationError` when the task is cancelled while it waits.
    func lockWriter() async throws {
        if tryLockWriter() { return }
        let clock = ContinuousClock()
        let deadline = clock.now + writerWait
        var pause = Duration.milliseconds(1)
        while true {
            guard clock.now < deadline else {
                throw TenantedError(
                    .storeFailure,
                    "tenant '\(tenant)' is being written by another process (or another pool on its storage), "
                        + "which held its write lock for longer than the busy timeout (\(writerWait)); the write was not started",
                    tenant: tenant
                )
            }
            try await Task.sleep(for: min(pause, deadline - clock.now))
            if tryLockWriter() { return }
            pause = min(pause * 2, .milliseconds(16))
        }
    }

    /// Releases the writer lock taken by ``tryLockWriter()`` or ``lockWriter()``.
    func unlockWriter() {
        #if os(Linux)
        guard hasWriterLock else { return }
        _ = setWriterLock(F_UNLCK)
        #endif
    }

    #if os(Linux)
    /// Sets the writer lock (first byte of the file) to `type` without waiting; `fcntl`'s result.
    private func setWriterLock(_ type: Int32) -> Int32 {
        var lock = Glibc.flock()
        lock.l_type = Int16(type)
        lock.l_whence = Int16(SEEK_SET)
        lock.l_start = 0
        lock.l_len = 1
        return fcntl(descriptor, Self.setOpenFileLock, &lock)
    }
    #endif

    /// Closes the lock file. Call once, after the pool's last write.
    func closeFile() {
        close(descriptor)
    }

    static func staleError(_ tenant: TenantID) -> TenantedError {
        TenantedError(
            .tenantNotFound,
            "tenant '\(tenant)' was destroyed or replaced (by this or another process) since its pool opened; the operation was refused",
            tenant: tenant
        )
    }
}
