import NIOPosix

/// The SQLite thread pool of this suite's tenancies: the whole package's tests run at once, and some
/// block threads of NIO's two-thread singleton on purpose (busy timeouts of up to a minute); queued
/// behind them, these servers' queries answered no HTTP request within the client's 30 s (seen in
/// full runs). Started once, never shut down, like NIO's own singletons.
let testThreadPool: NIOThreadPool = {
    let pool = NIOThreadPool(numberOfThreads: 8)
    pool.start()
    return pool
}()
