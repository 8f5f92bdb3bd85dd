public import Logging
public import NIOCore
public import NIOPosix
public import SQLiteNIO
public import Tenanted

extension SQLiteStore {
    /// Options of an ``SQLiteStore``.
    public struct Configuration: Sendable {
        /// The directory the path template is relative to. A relative root is resolved against the
        /// current directory once, when the store is made. Default: `"."`.
        public var root: String
        /// Where a tenant's file lives under ``root``. Default:
        /// `"storage/tenants/%{tenant}/main.sqlite3"`. See ``SQLiteStore`` for the tokens.
        public var pathTemplate: String
        /// How long a write waits for another process's write to the same tenant before failing.
        /// Default: 5 seconds.
        ///
        /// Between pools of Tenanted (other processes on the same storage, other tenancies), a
        /// write waits for the tenant's writer lock with its task asleep, and then fails with
        /// ``Tenanted/TenantedError/Code/storeFailure``, without having started. It is also every
        /// connection's `busy_timeout`: against a lock held outside Tenanted (the `sqlite3` shell),
        /// a statement sleeps in libsqlite3 — holding a thread of ``threadPool`` — and then fails
        /// with `SQLITE_BUSY`.
        public var busyTimeout: Duration
        /// Reader connections per tenant, beside the single writer. Default: 2. `0` sends reads
        /// to the writer.
        public var maximumReaders: Int
        /// Runs on every new connection after Tenanted's PRAGMAs (for example `PRAGMA cache_size`).
        /// Default: `nil`.
        public var prepareConnection: (@Sendable (SQLiteConnection) async throws -> Void)?
        /// Where libsqlite3 calls and file-system work run. Default: `NIOThreadPool.singleton` (one
        /// thread per core).
        ///
        /// Writes waiting for another Tenanted process's write to the same tenant hold no thread
        /// (see ``busyTimeout``). A statement that finds a lock taken *outside* Tenanted sleeps in
        /// libsqlite3, holding its thread, for up to ``busyTimeout``: on the singleton pool, as many
        /// such waits as there are cores hold up every other tenant's queries until they end. An
        /// app with such writers can give the store a pool of its own with room for the waits it
        /// expects (and shut it down after the store). It is not the default: measured on two
        /// cores, a pool of four or sixteen threads of its own cost the Hummingbird demo 25–35 %
        /// more CPU per request than the singleton, each query waking an idle thread.
        public var threadPool: NIOThreadPool
        /// Where connections' futures complete. Default: `MultiThreadedEventLoopGroup.singleton`.
        public var eventLoopGroup: any EventLoopGroup
        /// The connections' logger. Default: label `tenanted.sqlite`.
        public var logger: Logger
        /// The modes of tenant databases, everything beside them, their folders, templates and
        /// backups, whatever the process's umask. Default: ``Tenanted/TenantFilePermissions/ownerOnly``
        /// (0600 files, 0700 folders).
        public var filePermissions: TenantFilePermissions
        /// How long an open pool's last full check of its files (a `stat` and an `access`) is
        /// trusted while the storage's change counter has not moved. Default: 1 second.
        ///
        /// Every process moves the counter (a file, `.tenanted-changes`, beside the tenants' folders,
        /// mapped into each process) when it creates, destroys, restores, suspends or resumes a
        /// tenant through a store, so such a change is seen by every process before its next use of
        /// the tenant, however long this interval. The interval bounds how long a change made
        /// *behind the store's back* (files deleted or replaced by hand) can go unseen by reads;
        /// writes check the file every time. `.zero` turns the counter off: every lease runs the
        /// full check.
        public var fullCheckInterval: Duration

        /// Creates a configuration; every parameter has the default documented on its property.
        public init(
            root: String = ".",
            pathTemplate: String = "storage/tenants/%{tenant}/main.sqlite3",
            busyTimeout: Duration = .seconds(5),
            maximumReaders: Int = 2,
            prepareConnection: (@Sendable (SQLiteConnection) async throws -> Void)? = nil,
            threadPool: NIOThreadPool = .singleton,
            eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
            logger: Logger = Logger(label: "tenanted.sqlite"),
            filePermissions: TenantFilePermissions = .ownerOnly,
            fullCheckInterval: Duration = .seconds(1)
        ) {
            self.root = root
            self.pathTemplate = pathTemplate
            self.busyTimeout = busyTimeout
            self.maximumReaders = maximumReaders
            self.prepareConnection = prepareConnection
            self.threadPool = threadPool
            self.eventLoopGroup = eventLoopGroup
            self.logger = logger
            self.filePermissions = filePermissions
            self.fullCheckInterval = fullCheckInterval
        }

        /// `busyTimeout` in whole milliseconds, validated.
        func busyTimeoutMilliseconds() throws(TenantedError) -> Int {
            let (seconds, attoseconds) = busyTimeout.components
            guard seconds >= 0, attoseconds >= 0, seconds < Int64(Int32.max / 1000) else {
                throw TenantedError(.invalidConfiguration, "busyTimeout must be between 0 and \(Int32.max / 1000) seconds")
            }
            return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
        }
    }
}
