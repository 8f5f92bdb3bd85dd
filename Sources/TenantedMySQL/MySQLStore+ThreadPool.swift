public import NIOPosix
import NIOCore

extension MySQLStore {
    /// The thread pool of every store whose configuration names no other: `max(16, 4 × cores)`
    /// threads, started on first use, shared by the process's stores and never shut down.
    ///
    /// The MariaDB client library blocks its thread for every call, for a whole round trip to the
    /// server — and a statement waiting for a row lock for up to `innodb_lock_wait_timeout`. On
    /// NIO's singleton pool (one thread per core) the process could run only that many statements
    /// at a time across all tenants. Pass a pool of your own in ``Configuration/threadPool`` to size
    /// it differently (and shut it down after the store).
    public static let defaultThreadPool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: max(16, 4 * System.coreCount))
        pool.start()
        return pool
    }()
}
