package import Logging
import Synchronization

/// Every log line a ``RecordingLogHandler`` let through, as `"<level> <message> <metadata>"`.
package final class RecordedLogs: Sendable {
    private let lines = Mutex<[String]>([])

    package init() {}

    package func append(_ line: String) { lines.withLock { $0.append(line) } }
    package func clear() { lines.withLock { $0 = [] } }
    package var all: [String] { lines.withLock { $0 } }

    /// A logger whose every event at `level` or above goes to these lines.
    package func logger(label: String, level: Logger.Level = .trace) -> Logger {
        var logger = Logger(label: label) { _ in RecordingLogHandler(logs: self) }
        logger.logLevel = level
        return logger
    }
}

/// A log handler that records every event it lets through (its `logLevel` is the logger's), with the
/// handler's metadata merged with the event's.
package struct RecordingLogHandler: LogHandler {
    package let logs: RecordedLogs
    package var metadata: Logger.Metadata = [:]
    package var logLevel: Logger.Level = .trace

    package init(logs: RecordedLogs) { self.logs = logs }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        logs.append("\(event.level) \(event.message) \(merged)")
    }
}
