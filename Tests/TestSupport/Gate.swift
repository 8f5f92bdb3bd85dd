import Synchronization
package import Testing

/// A one-shot signal between concurrent tasks: ``wait()`` suspends until ``open()`` is called.
///
/// Tests use it to order steps ("the transaction is held", "the other pool has opened") instead of
/// sleeping and hoping.
package final class Gate: Sendable {
    private struct State {
        var isOpen = false
        var nextID = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var cancelled: Set<Int> = []
    }

    private let state = Mutex(State())

    /// Creates a closed gate.
    package init() {}

    /// Lets every current and future waiter through.
    package func open() {
        let waiters = state.withLock { state in
            state.isOpen = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Whether ``open()`` was called.
    package var isOpen: Bool { state.withLock { $0.isOpen } }

    /// Suspends until the gate opens, for at most two minutes: a gate never opened (the step that
    /// should open it failed first) records an issue instead of leaving the whole test run waiting
    /// with no thread and no timer to show for it.
    package func wait(sourceLocation: SourceLocation = #_sourceLocation) async {
        if await !wait(atMost: .seconds(120)), !Task.isCancelled {
            Issue.record("a gate was not opened within 2 minutes", sourceLocation: sourceLocation)
        }
    }

    /// Suspends until the gate opens or the task is cancelled.
    private func waitUnbounded() async {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state in
                    if state.isOpen || state.cancelled.contains(id) { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                state.cancelled.insert(id)
                return state.waiters.removeValue(forKey: id)
            }
            waiter?.resume()
        }
    }

    /// Suspends until the gate opens, for at most `limit`; returns whether it opened.
    package func wait(atMost limit: Duration) async -> Bool {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitUnbounded() }
            group.addTask { try? await Task.sleep(for: limit) }
            await group.next()
            group.cancelAll()
        }
        return isOpen
    }
}
