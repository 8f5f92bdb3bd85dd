import Fluent
import FluentKit
import FluentSQLiteDriver
import Foundation
import Logging
import Vapor

/// The demo's `GET /notes/:id` without Tenanted: the same model and handler on one SQLite file
/// through the stock FluentSQLiteDriver, no tenant middleware, in Vapor's production environment
/// like the demo under `run`.
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
            app.middleware = Middlewares()
            app.get("health") { _ in "ok" }
            app.get("notes", ":id") { req async throws -> Note in
                guard let id = req.parameters.get("id", as: UUID.self), let note = try await Note.find(id, on: req.db) else {
                    throw Abort(.notFound, reason: "note not found")
                }
                return note
            }
            try await app.execute()
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
    }
}

/// The demo's note (Sources/TenantedDemo/Note.swift) less its `@TenantOrigin`.
final class Note: Model, Content, @unchecked Sendable {  // Fluent models are reference types; one per request
    static let schema = "notes"

    @ID(key: .id) var id: UUID?
    @Field(key: "title") var title: String
    @Field(key: "body") var body: String
    @Timestamp(key: "created_at", on: .create, format: .iso8601) var createdAt: Date?

    init() {}
}
