package import NIOCore

/// Carries a value that is not `Sendable` through a future and back to the caller that made it.
package struct UncheckedValue<Value>: @unchecked Sendable {
    package let value: Value
}

extension EventLoopFuture {
    /// `get()` for any value: the value only travels from the closure that made it back to its caller.
    package func unchecked() async throws -> UncheckedValue<Value> {
        try await map { UncheckedValue(value: $0) }.get()
    }
}
