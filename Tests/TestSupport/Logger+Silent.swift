package import Logging

extension Logger {
    /// A logger that prints nothing, so test output shows test results only. Unlike swift-log's no-op
    /// handler it keeps metadata, which Tenanted reads (the `tenant` key).
    package static let silent = Logger(label: "tenanted-tests") { _ in SilentLogHandler() }
}

/// Drops every message; keeps metadata and level.
struct SilentLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .critical

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {}
}
