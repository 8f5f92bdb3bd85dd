import Foundation

/// The long variants of the reliability tests run when `TENANTED_SOAK=1`; the default suite runs
/// the same tests at a size that keeps it to a few minutes.
package enum Soak {
    /// Whether `TENANTED_SOAK=1` is set.
    package static let isEnabled = ProcessInfo.processInfo.environment["TENANTED_SOAK"] == "1"

    /// `normal` in the default suite, `soak` under `TENANTED_SOAK=1`.
    package static func choose<Value>(_ normal: Value, soak: Value) -> Value {
        isEnabled ? soak : normal
    }
}
