/// The bookkeeping of one server's ``ConnectionBudget``: how many connections this process's clients
/// may open to the server, how many are reserved, how many are on their way back (a client closing),
/// and who waits, in arrival order.
///
/// A pure state machine like the registry's `TenantPoolsState`: every event mutates the state and
/// returns what the shell must do (resume waiters, ask the registry for room). No I/O, no clock;
/// tested synchronously. `Waiter` is whatever the shell resumes (a continuation there, an integer in
/// tests).
///
/// Requests are served first come, first served: a large request at the head is not overtaken by
/// smaller ones behind it, so a tenant pool cannot starve behind a stream of one-connection checks.
struct ConnectionBudgetState<Waiter> {
    struct Request {
        let id: UInt64
        let count: Int
        let waiter: Waiter
    }

    /// What a reservation did.
    enum Reservation {
        /// Reserved at once.
        case granted
        /// Queued; the shell asks the registry to close idle pools worth `shortfall` connections and
        /// starts the request's timeout.
        case queued(shortfall: Int)
        /// More than the whole budget: can never be granted.
        case exceedsLimit
    }

    /// The most connections this process's clients may hold to the server at once.
    let limit: Int
    /// Connections reserved by running clients (each client reserves its maximum size).
    private(set) var reserved = 0
    /// Of ``reserved``, connections of clients that are closing: they come back without help, so
    /// asking the registry to close pools for them would close too many.
    private(set) var returning = 0
    /// Waiting requests, oldest first (an array: the queue is short, and the store imports no collections package).
    private(set) var queue: [Request] = []

    init(limit: Int) {
        precondition(limit >= 1, "validated by PostgresStore.Configuration")
        self.limit = limit
    }

    /// Connections the queue needs beyond what is free now and what is already on its way back.
    var shortfall: Int {
        max(0, reserved - returning + queue.reduce(0) { $0 + $1.count } - limit)
    }

    /// Reserves `count` connections for request `id`.
    mutating func reserve(_ count: Int, id: UInt64, waiter: Waiter) -> Reservation {
        precondition(count >= 1)
        if count > limit { return .exceedsLimit }
        if queue.isEmpty, reserved + count <= limit {
            reserved += count
            return .granted
        }
        queue.append(Request(id: id, count: count, waiter: waiter))
        return .queued(shortfall: shortfall)
    }

    /// A client holding `count` connections began to close: they will come back with ``release(_:returning:)``.
    mutating func beginReturning(_ count: Int) {
        returning += count
    }

    /// A client gave its `count` connections back (`returning`: it was announced with
    /// ``beginReturning(_:)``). Returns the waiters granted now, in order.
    mutating func release(_ count: Int, returning wasReturning: Bool = false) -> [Waiter] {
        reserved -= count
        if wasReturning { returning -= count }
        precondition(reserved >= 0 && returning >= 0, "released more connections than were reserved")
        return grantFromQueue()
    }

    /// Request `id` stopped waiting (its task was cancelled, or it timed out). Returns its waiter
    /// — `nil` when it is no longer queued (granted already) — and the waiters granted because it
    /// left the head of the queue.
    mutating func withdraw(_ id: UInt64) -> (waiter: Waiter?, granted: [Waiter]) {
        guard let index = queue.firstIndex(where: { $0.id == id }) else { return (nil, []) }
        let request = queue.remove(at: index)
        return (request.waiter, index == 0 ? grantFromQueue() : [])
    }

    /// Whether request `id` is still waiting.
    func isQueued(_ id: UInt64) -> Bool {
        queue.contains { $0.id == id }
    }

    private mutating func grantFromQueue() -> [Waiter] {
        var granted: [Waiter] = []
        while let head = queue.first, reserved + head.count <= limit {
            queue.removeFirst()
            reserved += head.count
            granted.append(head.waiter)
        }
        return granted
    }
}
