import Synchronization

/// A value behind a mutex that closures can capture (a `Mutex` itself cannot be captured).
package final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    package init(_ value: Value) {
        mutex = Mutex(value)
    }

    /// The current value.
    package var value: Value { mutex.withLock { $0 } }

    /// Runs `body` with exclusive access to the value.
    package func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result {
        mutex.withLock { body(&$0) }
    }
}

extension Locked {
    /// Appends `element` to a collection value.
    package func append<Element>(_ element: Element) where Value == [Element] {
        withLock { $0.append(element) }
    }
}
