import BenchmarkSupport
import Foundation
import SQLiteNIO

/// The access patterns of the churn figures: which of `count` tenants each call uses.
enum AccessPattern: String, Codable, Sendable {
    case uniform, zipf

    /// `calls` tenant numbers in `0..<count`, the same on every run. Zipf with exponent 1: tenant
    /// number k (k from 0) is used in proportion to 1 / (k + 1).
    func tenants(count: Int, calls: Int, seed: UInt64 = 7) -> [Int] {
        var generator = SplitMix64(state: seed)
        switch self {
        case .uniform:
            return (0..<calls).map { _ in Int.random(in: 0..<count, using: &generator) }
        case .zipf:
            var cumulative: [Double] = []
            cumulative.reserveCapacity(count)
            var total = 0.0
            for rank in 1...count {
                total += 1 / Double(rank)
                cumulative.append(total)
            }
            return (0..<calls).map { _ in
                let target = Double.random(in: 0..<total, using: &generator)
                var low = 0, high = count - 1
                while low < high {
                    let middle = (low + high) / 2
                    if cumulative[middle] <= target { low = middle + 1 } else { high = middle }
                }
                return low
            }
        }
    }
}

/// The churn baseline: raw sqlite-nio connections to many files, at most `capacity` open, the least
/// recently used closed (in a task of its own, off the caller's path, as `TenantPools` closes an
/// evicted pool) when another file is needed.
final class ConnectionLRU {
    private let capacity: Int
    private let baseline: Baseline
    private var open: [Int: SQLiteConnection] = [:]
    /// File numbers, least recently used first.
    private var order: [Int] = []
    private var closing: [Task<Void, Never>] = []

    init(capacity: Int, baseline: Baseline) {
        self.capacity = capacity
        self.baseline = baseline
    }

    /// The open connection to file `number` at `path`, opened (PRAGMAs applied) when it is not.
    func connection(_ number: Int, path: String) async throws -> SQLiteConnection {
        if let connection = open[number] {
            if let index = order.lastIndex(of: number) { order.remove(at: index) }
            order.append(number)
            return connection
        }
        if open.count >= capacity {
            let evicted = order.removeFirst()
            if let connection = open.removeValue(forKey: evicted) {
                closing.append(Task { try? await connection.close() })
            }
            // Forget closes long done (awaiting them returns at once), so that 100,000 evictions do
            // not keep 100,000 closed connections alive (the scale figures read this process's RSS).
            while closing.count > 2 * capacity { await closing.removeFirst().value }
        }
        let connection = try await baseline.open(path)
        open[number] = connection
        order.append(number)
        return connection
    }

    /// Closes every connection and waits for the evicted ones to close.
    func close() async {
        for connection in open.values { try? await connection.close() }
        open = [:]
        order = []
        for task in closing { await task.value }
        closing = []
    }
}
