import Fluent
import FluentKit
import FluentSQLiteDriver
import Foundation
import Logging
import Vapor

/// The demo's `GET /notes/:id` without Tenanted: the same model and handler on one SQLite file
/// through the stock FluentSQLiteDriver, no tenant middleware, in Vapor's production environment
/// like the demo under `run`.
///
/// It answers what the demo answers, byte for byte but for the tenant's name (always `t0000` here):
/// the demo's error middleware, its JSON encoder (sorted keys, unescaped slashes, ISO 8601 dates),
/// and the same view of the note with its absolute URL, made from the port the server listens on as
/// the demo makes it.
enum UntenantedServer {
    static func serve(database: String, port: Int) async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        let environment = Environment(name: "production", arguments: ["http-notes", "serve", "--hostname", "127.0.0.1", "--port", "\(port)"])
        let app = try await Application.make(environment)
        do {
            app.databases.use(.sqlite(.file(database)), as: .sqlite)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            ContentConfiguration.global.use(encoder: encoder, for: .json)
            app.middleware = Middlewares()
            app.middleware.use(ErrorMiddleware())
            app.get("health") { _ in "ok" }
            app.get("notes", ":id") { req async throws -> NoteView in
                guard let id = req.parameters.get("id", as: UUID.self), let note = try await Note.find(id, on: req.db) else {
                    throw Abort(.notFound, reason: "note not found")
                }
                let port = req.application.http.server.shared.localAddress?.port ?? req.application.http.server.configuration.port
                return NoteView(
                    id: note.id, title: note.title, body: note.body, tenant: "t0000", createdAt: note.createdAt,
                    url: "http://t0000.localhost:\(port)/notes/\(note.id?.uuidString ?? "")"
                )
            }
            try await app.execute()
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
    }

    /// The demo's `JSONErrorMiddleware` in shape: every error becomes `{"error": …}` with its status.
    struct ErrorMiddleware: AsyncMiddleware {
        struct Body: Encodable { let error: String }

        func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
            do {
                return try await next.respond(to: request)
            } catch {
                let abort = error as? any AbortError
                let response = Response(status: abort?.status ?? .internalServerError)
                if let abort { response.headers.add(contentsOf: abort.headers) }
                try response.content.encode(Body(error: abort?.reason ?? "internal error"), as: .json)
                return response
            }
        }
    }
}

/// The demo's note (Sources/TenantedDemo/Note.swift) less its `@TenantOrigin`.
final class Note: Model, @unchecked Sendable {  // Fluent models are reference types; one per request
    static let schema = "notes"

    @ID(key: .id) var id: UUID?
    @Field(key: "title") var title: String
    @Field(key: "body") var body: String
    @Timestamp(key: "created_at", on: .create, format: .iso8601) var createdAt: Date?

    init() {}
}

/// The demo's `NoteView` (Sources/TenantedDemo/LiveNotes.swift): what `GET /notes/:id` answers.
struct NoteView: Content {
    var id: UUID?
    var title: String
    var body: String
    var tenant: String?
    var createdAt: Date?
    var url: String
}
