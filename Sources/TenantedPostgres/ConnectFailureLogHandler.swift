import Logging
import Synchronization

/// The log handler of a registry pool's `PostgresClient` (its background logger): it passes every
/// record on to the store's own handler, and tells the pool when postgres-nio reports a failed
/// connection attempt.
///
/// postgres-nio tells a pool's waiting requests nothing when a connection attempt fails: they stay
/// queued while it retries with backoff, until an attempt succeeds or its circuit breaker trips
/// (60 s without a connection). Another process's destroy drops the tenant's database and ends the
/// pool's sessions (`DROP DATABASE … WITH (FORCE)`); postgres-nio then reconnects (at once for the
/// kept ``PostgresStore/Configuration/minimumConnectionsPerPool``, or for the next request), and
/// every attempt fails. The destroy's announcement normally retires the pool first, but when it is
/// late (a busy listener) or missed (between listening connections), a failed attempt is the only
/// sign — and the pool's only report of it is this log record ("Connection creation failed", at
/// info level). On it, the pool asks the catalog (``PostgresTenantPool/connectAttemptFailed()``):
/// a tenant that is gone retires the pool, which fails the queued requests with
/// ``Tenanted/TenantedError/Code/tenantNotFound`` instead of leaving them waiting.
struct ConnectFailureLogHandler: LogHandler {
    /// The pool a failed attempt is reported to; set once the pool exists (its client comes first).
    final class Target: Sendable {
        private struct Reference: @unchecked Sendable {
            // @unchecked: a weak reference to a Sendable class, only read and written under the mutex.
            weak var pool: PostgresTenantPool?
        }
        private let reference = Mutex(Reference())

        /// Reports failed attempts to `pool` from now on (weakly: the pool owns the client).
        func attach(_ pool: PostgresTenantPool) {
            reference.withLock { $0.pool = pool }
        }

        func connectAttemptFailed() {
            reference.withLock { $0.pool }?.connectAttemptFailed()
        }
    }

    /// postgres-nio 1.x's message for a failed connection attempt (`PostgresClientMetrics`).
    static let connectFailedMessage = "Connection creation failed"

    private var underlying: any LogHandler
    private let target: Target

    init(underlying: any LogHandler, target: Target) {
        self.underlying = underlying
        self.target = target
    }

    /// The store's level, but never above `info`: the failure record must reach this handler even
    /// when the store logs only warnings (records below the store's level are not passed on).
    var logLevel: Logger.Level {
        get { min(underlying.logLevel, .info) }
        set { underlying.logLevel = newValue }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { underlying.metadataProvider }
        set { underlying.metadataProvider = newValue }
    }

    var metadata: Logger.Metadata {
        get { underlying.metadata }
        set { underlying.metadata = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { underlying[metadataKey: key] }
        set { underlying[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        if event.level == .info, event.message.description == Self.connectFailedMessage {
            target.connectAttemptFailed()
        }
        if event.level >= underlying.logLevel {
            underlying.log(event: event)
        }
    }
}

extension Logger {
    /// This logger, with a handler that also reports postgres-nio's failed connection attempts to
    /// `target` (``ConnectFailureLogHandler``).
    func reportingConnectFailures(to target: ConnectFailureLogHandler.Target) -> Logger {
        let handler = ConnectFailureLogHandler(underlying: self.handler, target: target)
        return Logger(label: label, factory: { _ in handler })
    }
}
