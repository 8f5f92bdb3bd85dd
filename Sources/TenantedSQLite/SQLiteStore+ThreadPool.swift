public import NIOPosix
import NIOCore

extension SQLiteStore {
    /// The thread pool of every store whose configuration names no other: `max(16, 4 × cores)`
    /// threads, started on first use, shared by the process's stores and never shut down.
    ///
    /// libsqlite3 blocks its thread for every call, and a statement that finds another connection's
    /// lock sleeps in it for up to ``Configuration/busyTimeout``. On NIO's singleton pool (one thread
    /// per core, shared with the web framework's own blocking work) two such waits stop every other
    /// tenant's queries until they end; a pool sized for waiting keeps one tenant's lock from
    /// stalling the others. Pass a pool of your own in ``Configuration/threadPool`` to size it
    /// differently (and shut it down after the store).
    public static let defaultThreadPool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: max(16, 4 * System.coreCount))
        pool.start()
        return pool
    }()
}
