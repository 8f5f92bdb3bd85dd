import Fluent
import FluentKit
import Foundation
import TenantedVapor
import Vapor

/// The demo's HTTP interface. `/health` is untenanted; `/notes…` runs in the tenant named by the
/// first label of the host under the base domain.
func routes(_ app: Application, baseDomain: String) throws {
    app.get("health") { _ in "ok" }

    let tenanted = app.grouped(TenantMiddleware(resolver: try .subdomain(of: baseDomain)))
    let notes = tenanted.grouped("notes")

    notes.get { req async throws -> [Note] in
        _ = try req.requireTenant()
        return try await Note.query(on: req.db).sort(\.$createdAt).all()
    }

    notes.post { req async throws -> Response in
        _ = try req.requireTenant()
        let input = try req.content.decode(NoteInput.self)
        guard let title = input.title, !title.isEmpty else { throw Abort(.badRequest, reason: "title is required") }
        let note = Note(title: title, body: input.body ?? "")
        try await note.create(on: req.db)
        return try await note.encodeResponse(status: .created, for: req)
    }

    notes.get(":id") { req async throws -> Note in
        try await find(req)
    }

    notes.patch(":id") { req async throws -> Note in
        let note = try await find(req)
        let input = try req.content.decode(NoteInput.self)
        if let title = input.title {
            guard !title.isEmpty else { throw Abort(.badRequest, reason: "title cannot be empty") }
            note.title = title
        }
        if let body = input.body { note.body = body }
        try await note.save(on: req.db)
        return note
    }

    notes.delete(":id") { req async throws -> HTTPStatus in
        try await find(req).delete(on: req.db)
        return .noContent
    }

    // A live feed: each text frame becomes a note, answered with the tenant's note count. It closes
    // when the tenant is suspended or destroyed (by any process).
    tenanted.tenantWebSocket("live") { req, ws in
        ws.onText { ws, text in
            let reply = (try? await req.withTenant {
                try await Note(title: text, body: "").create(on: req.db)
                return "\(try await Note.query(on: req.db).count())"
            }) ?? "failed"
            try? await ws.send(reply)
        }
        try? await ws.send("ready")
    }
}

/// The note named by the `:id` parameter in the request's tenant; 404 when there is none.
private func find(_ req: Request) async throws -> Note {
    _ = try req.requireTenant()
    guard let id = req.parameters.get("id", as: UUID.self), let note = try await Note.find(id, on: req.db) else {
        throw Abort(.notFound, reason: "note not found")
    }
    return note
}

extension Note: Content {}

/// Renders every error as `{"error": "<reason>"}` with the error's status; unexpected errors are a
/// 500 whose details go to the log only.
struct JSONErrorMiddleware: AsyncMiddleware {
    struct Body: Encodable { let error: String }

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        do {
            return try await next.respond(to: request)
        } catch {
            let status: HTTPResponseStatus
            let reason: String
            if let abort = error as? any AbortError {
                status = abort.status
                reason = abort.reason
            } else if error is DecodingError {
                status = .badRequest
                reason = "invalid JSON"
            } else {
                status = .internalServerError
                reason = "internal error"
            }
            if status == .internalServerError { request.logger.report(error: error) }
            let response = Response(status: status)
            // Retry-After of a suspended tenant's 503, and any other header the error carries.
            if let abort = error as? any AbortError { response.headers.add(contentsOf: abort.headers) }
            try response.content.encode(Body(error: reason), as: .json)
            return response
        }
    }
}
