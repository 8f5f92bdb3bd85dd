#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A change counter shared by every process on one storage: a small file, `.tenanted-changes`, in
/// the folder above the tenants' files, mapped `MAP_SHARED` (read-only) into each process and bumped
/// with an atomic add (through a writable mapping made for the add) whenever a tenant's files are
/// replaced or removed.
///
/// Every such change — create, destroy, restore, suspend, resume, a create from a template — holds
/// the tenant's ready-lock exclusively, and the ready-lock bumps the counter when it is released
/// (``ReadyLock``), so any process (an app, the `tenants` command) that changes a tenant through the
/// store moves the counter before its operation returns. A lease of an open pool then reads one
/// integer: while it has not moved since the pool's last full check (a `stat` of the database and an
/// `access` of the suspension marker), nothing can have changed through the store, and the check is
/// skipped (``WriteGuard/isCurrent(changes:)``).
///
/// What the counter cannot see: files changed behind the store's back (deleted by hand, copied
/// over). For those, a pool still runs the full check when its last one is older than
/// ``SQLiteStore/Configuration/fullCheckInterval``, and every write still checks the file under the
/// shared lock, so such a change is seen within that interval and no write ever lands in a deleted
/// file. The counter file itself is checked at the same interval: a storage folder deleted and made
/// again gets a new counter, which this process then maps.
///
/// When the file cannot be made or mapped (no folder yet, a read-only file system), ``generation()``
/// is `nil` and every lease runs the full check, as without a counter; it tries again after the
/// interval.
final class StorageChanges: Sendable {
    /// The counter file's path.
    let path: String
    /// How long a full check is trusted, and how often the counter file's identity is checked, in
    /// nanoseconds of the coarse monotonic clock. `0`: this process never trusts the counter (it
    /// still moves it).
    let interval: UInt64
    private let mode: mode_t
    /// The mapped counter's address, `0` until mapped. Set once per mapping under `state`'s lock,
    /// read without it on every lease.
    private let address = Atomic<UInt>(0)
    /// When the counter file's identity was last checked (or the mapping last tried); ``never``
    /// before the first time. (Not 0: the clock counts from boot, so for one interval after boot
    /// every time would look close enough to 0 for the counter never to be mapped.)
    private let checkedAt = Atomic<UInt64>(never)
    private static let never = UInt64.max
    private let state = Mutex(Mapping())

    private struct Mapping {
        var address: UnsafeMutableRawPointer?
        var identity: FileIdentity?
        /// Mappings replaced after the file was made again: kept mapped (a lease may be reading
        /// one), unmapped at deinit.
        var retired: [UnsafeMutableRawPointer] = []
    }

    /// The size mapped: one `UInt64`, in a file of one page at most.
    private static let size = 8

    init(path: String, interval: Duration, mode: UInt16) {
        self.path = path
        let (seconds, attoseconds) = interval.components
        self.interval = seconds <= 0 && attoseconds <= 0 ? 0 : UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
        self.mode = mode_t(mode)
    }

    deinit {
        state.withLock { mapping in
            for address in mapping.retired + (mapping.address.map { [$0] } ?? []) {
                munmap(address, Self.size)
            }
        }
    }

    /// The counter now, or `nil` when there is none to trust (not mapped, or disabled).
    ///
    /// - Parameter now: the coarse monotonic clock (``now()``).
    func generation(now: UInt64) -> UInt64? {
        guard interval > 0 else { return nil }
        if isDue(now) { refresh(now: now) }
        let bits = address.load(ordering: .acquiring)
        guard let counter = UnsafeMutablePointer<Atomic<UInt64>>(bitPattern: bits) else { return nil }
        return counter.pointee.load(ordering: .acquiring)
    }

    /// Moves the counter, so that every process's next lease of every pool on this storage runs the
    /// full check. Called when a tenant's ready-lock is released, after the change it guarded.
    ///
    /// It maps the file writable only for the add: a writable mapping kept open would hold the file
    /// system busy (a read-only remount fails with `EBUSY`). Without a counter (it cannot be made or
    /// written), nothing: other processes then see the change within their ``interval``.
    func bump() {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, mode)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        guard Self.hasRoom(descriptor),
              let address = mmap(nil, Self.size, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, 0), address != MAP_FAILED,
              let counter = UnsafeMutablePointer<Atomic<UInt64>>(bitPattern: UInt(bitPattern: address))
        else { return }
        counter.pointee.wrappingAdd(1, ordering: .sequentiallyConsistent)
        munmap(address, Self.size)
    }

    /// Whether the counter file's identity is to be checked (or the mapping tried) at `now`: never
    /// done yet, or last done an ``interval`` ago.
    private func isDue(_ now: UInt64) -> Bool {
        let last = checkedAt.load(ordering: .relaxed)
        return last == Self.never || now &- last >= interval
    }

    /// Maps the counter file when it is not mapped yet or is no longer the file at ``path``.
    private func refresh(now: UInt64) {
        state.withLock { mapping in
            // Another thread refreshed meanwhile.
            if mapping.address != nil, !isDue(now) { return }
            checkedAt.store(now, ordering: .relaxed)
            let current = FileIdentity.of(path)
            if let address = mapping.address, current != nil, current == mapping.identity {
                self.address.store(UInt(bitPattern: address), ordering: .releasing)
                return
            }
            // A mapping of a file that was deleted stays unused (a bump there reaches nobody); kept
            // mapped until deinit, as a lease may be reading it.
            if let old = mapping.address { mapping.retired.append(old) }
            mapping.address = nil
            mapping.identity = nil
            self.address.store(0, ordering: .releasing)
            guard let (address, identity) = Self.map(path, mode: mode) else { return }
            mapping.address = address
            mapping.identity = identity
            self.address.store(UInt(bitPattern: address), ordering: .releasing)
        }
    }

    /// Makes the counter file at `path` if needed, and maps it read-only.
    private static func map(_ path: String, mode: mode_t) -> (UnsafeMutableRawPointer, FileIdentity)? {
        // Made (and grown to its size) by whoever can write it; read by everyone.
        let maker = open(path, O_RDWR | O_CREAT | O_CLOEXEC, mode)
        if maker >= 0 {
            _ = hasRoom(maker)
            close(maker)
        }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_size >= size,
              let address = mmap(nil, size, PROT_READ, MAP_SHARED, descriptor, 0), address != MAP_FAILED
        else { return nil }
        return (address, FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino)))
    }

    /// Whether the counter file open on `descriptor` (for writing) holds the counter, growing it when
    /// it is new: grown, never shrunk, so two processes making it at once both leave 8 zero bytes.
    private static func hasRoom(_ descriptor: Int32) -> Bool {
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return false }
        return info.st_size >= size || ftruncate(descriptor, off_t(size)) == 0
    }

    /// The coarse monotonic clock in nanoseconds: a few nanoseconds to read, a few milliseconds of
    /// resolution, plenty for an interval of a second.
    static func now() -> UInt64 {
        var time = timespec()
        #if os(Linux)
        clock_gettime(CLOCK_MONOTONIC_COARSE, &time)
        #else
        clock_gettime(CLOCK_MONOTONIC, &time)
        #endif
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
