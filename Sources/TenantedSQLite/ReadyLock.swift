#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The ready-lock of a tenant: a file whose exclusive `flock` is held while the tenant is being
/// created or destroyed, so other tasks and other processes see the tenant as absent meanwhile.
/// Open pools hold it *shared* for the length of each write (``WriteGuard``), so a destroy waits
/// for writes in progress.

///
/// All functions block; call them from a thread pool, never from an event loop.
///
/// Releasing it bumps the storage's change counter (``StorageChanges``): everything that replaces or
/// removes a tenant's files holds this lock, so every process learns of the change before its next
/// use of the tenant.
struct ReadyLock: ~Copyable {
    private let descriptor: Int32
    let path: String
    private let changes: StorageChanges?

    /// Takes the exclusive lock on `path`, creating the file; fails with `EWOULDBLOCK` at once while
    /// another holder has it. It never waits: a thread-pool thread blocked here could be the one the
    /// holder needs to finish (two blocked creates of one tenant deadlock a two-thread pool).
    ///
    /// If a holder unlinks the file before releasing it (a destroy), the lock taken on the old file
    /// is worthless; the inode check below notices that and retries on the new file.
    init(exclusiveAt path: String, mode: UInt16 = 0o600, changes: StorageChanges?) throws(SystemError) {
        while true {
            let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, mode_t(mode))
            if descriptor < 0 { throw SystemError("open the ready-lock", errno) }
            // Owner-only whatever the umask (Configuration.filePermissions).
            fchmod(descriptor, mode_t(mode))
            var result: Int32
            repeat { result = flock(descriptor, LOCK_EX | LOCK_NB) } while result != 0 && errno == EINTR
            if result != 0 {
                let code = errno
                close(descriptor)
                throw SystemError("lock the ready-lock", code)
            }
            var held = stat()
            var current = stat()
            if fstat(descriptor, &held) == 0, stat(path, &current) == 0,
                held.st_ino == current.st_ino, held.st_dev == current.st_dev
            {
                self.descriptor = descriptor
                self.path = path
                self.changes = changes
                return
            }
            close(descriptor)
        }
    }

    /// Deletes the lock file (while still holding the lock), then releases it.
    consuming func remove() {
        unlink(path)
    }

    /// Unlocks before closing: a child process started meanwhile (between its `fork` and `exec`)
    /// holds a copy of the descriptor, and the lock lives on until every copy is closed — unless it
    /// is unlocked explicitly, which ends it for all of them.
    deinit {
        // After the change the lock guarded, before anyone waiting for the lock goes on.
        changes?.bump()
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    /// Whether another holder has the exclusive lock on `path` right now (a create or destroy in
    /// progress). A missing file means nobody holds it.
    static func isHeld(at path: String) -> Bool {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 { return false }
        defer { close(descriptor) }
        if flock(descriptor, LOCK_SH | LOCK_NB) != 0 {
            return errno == EWOULDBLOCK
        }
        flock(descriptor, LOCK_UN)
        return false
    }
}

/// A failed system call: what was attempted and `errno`. Its description holds no path.
struct SystemError: Error, CustomStringConvertible {
    var operation: String
    var code: Int32

    init(_ operation: String, _ code: Int32) {
        self.operation = operation
        self.code = code
    }

    var description: String {
        "\(operation) failed: \(String(cString: strerror(code))) (errno \(code))"
    }
}
