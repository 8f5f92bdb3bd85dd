import Synchronization

/// Connections one client holds of its server's ``ConnectionBudget``: given back exactly once, when
/// the client has closed its connections.
final class ConnectionReservation: Sendable {
    let budget: ConnectionBudget
    let count: Int
    /// (announced as returning, given back)
    private let state = Mutex((returning: false, released: false))

    init(budget: ConnectionBudget, count: Int) {
        self.budget = budget
        self.count = count
    }

    /// The client's close has been scheduled: its connections are on their way back, so a waiting
    /// reservation does not ask for more pools to close on their account.
    func markReturning() {
        let announce = state.withLock { state -> Bool in
            guard !state.returning, !state.released else { return false }
            state.returning = true
            return true
        }
        if announce { budget.beginReturning(count) }
    }

    /// Gives the connections back; later calls do nothing.
    func release() {
        let returning = state.withLock { state -> Bool? in
            guard !state.released else { return nil }
            state.released = true
            return state.returning
        }
        if let returning { budget.release(count, returning: returning) }
    }
}
