import Synchronization

/// A value behind a mutex that closures can capture (a `Mutex` itself cannot be captured).
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) {
        mutex = Mutex(value)
    }

    /// The current value.
    var value: Value { mutex.withLock { $0 } }

    /// Runs `body` with exclusive access to the value.
    func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result {
        mutex.withLock { body(&$0) }
    }
}

extension Locked {
    /// Appends `element` to a collection value.
    func append<Element>(_ element: Element) where Value == [Element] {
        withLock { $0.append(element) }
    }
}
