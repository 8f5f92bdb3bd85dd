import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import SQLiteNIO
import Synchronization

/// `tenanted-hummingbird-demo`'s `GET /notes/:id` without Tenanted: the same SQL, row-to-JSON and
/// response on one SQLite file through sqlite-nio, on Hummingbird, with no tenant middleware. The
/// demo's pool lends one of a few connections per query; here each event loop thread has a
/// connection of its own, opened with the store's PRAGMAs, so neither side queues on one connection.
enum UntenantedHummingbirdServer {
    struct Note: Codable, ResponseEncodable {
        var id: String
        var title: String
        var body: String
        var tenant: String
        var createdAt: String
    }

    static func serve(database: String, port: Int) async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        let threads = NIOThreadPool.singleton
        var connections: [SQLiteConnection] = []
        for _ in 0..<max(2, System.coreCount) {
            let connection = try await SQLiteConnection.open(storage: .file(path: database), threadPool: threads, on: MultiThreadedEventLoopGroup.singleton.any())
            for pragma in ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA busy_timeout=5000", "PRAGMA foreign_keys=ON"] {
                _ = try await connection.query(pragma)
            }
            connections.append(connection)
        }
        let pool = connections
        let counter = Counter()
        let router = Router()
        router.get("health") { _, _ in "ok" }
        router.get("notes/:id") { _, context -> Response in
            guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw HTTPError(.notFound) }
            let connection = pool[counter.next() % pool.count]
            let rows = try await connection.query("SELECT id, title, body, created_at FROM notes WHERE id = ?", [.text(id.uuidString)])
            guard let row = rows.first else { throw HTTPError(.notFound) }
            let note = Note(
                id: row.column("id")?.string ?? "", title: row.column("title")?.string ?? "", body: row.column("body")?.string ?? "",
                tenant: "t0000", createdAt: row.column("created_at")?.string ?? ""
            )
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(note))))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        try await app.runService()
        for connection in pool { try? await connection.close() }
    }
}

/// A lock-free-enough round robin: a relaxed counter behind a mutex (one lock per request, as the
/// demo's pool takes one).
final class Counter: Sendable {
    private let value = Mutex(0)
    func next() -> Int { value.withLock { $0 += 1; return $0 } }
}
