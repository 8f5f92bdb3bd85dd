import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import SQLiteNIO
import Synchronization

/// `tenanted-hummingbird-demo`'s `GET /notes/:id` without Tenanted: the same SQL, row-to-JSON and
/// response bytes on one SQLite file through sqlite-nio, on Hummingbird, with the demo's error
/// middleware and no tenant middleware. The demo's pool lends one of a few connections per query;
/// here each event loop thread has a connection of its own, opened with the store's PRAGMAs, so
/// neither side queues on one connection.
///
/// The answer is the demo's, byte for byte but for the tenant's name (always `t0000` here): the same
/// fields (the note's absolute URL included, made from the server's base URL as an untenanted app
/// makes it), `createdAt` shown to the second as the demo shows it, the demo's JSON encoder settings.
enum UntenantedHummingbirdServer {
    struct Note: Codable, Sendable {
        var id: String
        var title: String
        var body: String
        var tenant: String
        var createdAt: String
        var url: String
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
        let baseURL = "http://t0000.localhost:\(port)"
        let router = Router()
        router.add(middleware: ErrorMiddleware())
        router.get("health") { _, _ in "ok" }
        router.get("notes/:id") { _, context -> Response in
            guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw HTTPError(.notFound) }
            let connection = pool[counter.next() % pool.count]
            let rows = try await connection.query("SELECT id, title, body, created_at FROM notes WHERE id = ?", [.text(id.uuidString)])
            guard let row = rows.first else { throw HTTPError(.notFound) }
            let noteID = row.column("id")?.string ?? ""
            let note = Note(
                id: noteID, title: row.column("title")?.string ?? "", body: row.column("body")?.string ?? "",
                tenant: "t0000", createdAt: shown(row.column("created_at")?.string), url: baseURL + "/notes/" + noteID
            )
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(note))))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        try await app.runService()
        for connection in pool { try? await connection.close() }
    }

    /// `created_at` as the demo shows it: `YYYY-MM-DDTHH:MM:SS.fffZ` to the second, checked the same way.
    static func shown(_ stored: String?) -> String {
        guard let stored else { return "" }
        let bytes = Array(stored.utf8)
        guard bytes.count == 24, bytes[10] == UInt8(ascii: "T"), bytes[19] == UInt8(ascii: "."), bytes[23] == UInt8(ascii: "Z"),
              bytes[20..<23].allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
        else { return stored }
        return String(decoding: bytes[..<19], as: UTF8.self) + "Z"
    }

    /// The demo's `JSONErrorMiddleware` in shape: every error becomes `{"error": …}` with its status.
    struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
        struct Body: Encodable { let error: String }

        func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
            do {
                return try await next(request, context)
            } catch {
                let (status, reason) = (error as? HTTPError).map { ($0.status, $0.body ?? $0.status.reasonPhrase) } ?? (.internalServerError, "internal error")
                let body = try JSONEncoder().encode(Body(error: reason))
                return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
            }
        }
    }
}

/// A lock-free-enough round robin: a relaxed counter behind a mutex (one lock per request, as the
/// demo's pool takes one).
final class Counter: Sendable {
    private let value = Mutex(0)
    func next() -> Int { value.withLock { $0 += 1; return $0 } }
}
