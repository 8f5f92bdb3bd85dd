import SQLKit
import Synchronization

/// The rows of one statement, appended by SQLite's row callback (one at a time, in order).
final class RowCollector: Sendable {
    private let storage = Mutex<[any SQLRow]>([])

    func append(_ row: any SQLRow) { storage.withLock { $0.append(row) } }

    var rows: [any SQLRow] { storage.withLock { $0 } }
}
