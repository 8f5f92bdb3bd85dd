import Fluent
import FluentKit
import Foundation
import TenantedDemoSupport
import TenantedVapor
import Vapor

/// The demo's HTTP interface. `/health` is untenanted; everything else runs in the tenant named by
/// the first label of the host under the base domain.
func routes(_ app: Application, baseDomain: String, services: DemoServices) throws {
    app.get("health") { _ in "ok" }

    let tenanted = app.grouped(TenantMiddleware(resolver: try .subdomain(of: baseDomain)))
    let notes = tenanted.grouped("notes")
    let live = LiveNotes(broadcaster: services.broadcaster, links: DemoLinksCache(baseDomain: baseDomain))

    notes.get { req async throws -> [NoteView] in
        _ = try req.requireTenant()
        return try await Note.query(on: req.db).sort(\.$createdAt).all().map { try live.view($0, for: req) }
    }

    notes.post { req async throws -> Response in
        _ = try req.requireTenant()
        let input = try req.content.decode(NoteInput.self)
        guard let title = input.title, !title.isEmpty else { throw Abort(.badRequest, reason: "title is required") }
        let note = Note(title: title, body: input.body ?? "")
        try await note.create(on: req.db)
        let view = try live.view(note, for: req)
        try live.publish(.created, view)
        return try await view.encodeResponse(status: .created, for: req)
    }

    notes.get(":id") { req async throws -> NoteView in
        try live.view(try await find(req), for: req)
    }

    notes.patch(":id") { req async throws -> NoteView in
        let note = try await find(req)
        let input = try req.content.decode(NoteInput.self)
        if let title = input.title {
            guard !title.isEmpty else { throw Abort(.badRequest, reason: "title cannot be empty") }
            note.title = title
        }
        if let body = input.body { note.body = body }
        try await note.save(on: req.db)
        let view = try live.view(note, for: req)
        try live.publish(.updated, view)
        return view
    }

    notes.delete(":id") { req async throws -> HTTPStatus in
        let note = try await find(req)
        let view = try live.view(note, for: req)
        try await note.delete(on: req.db)
        try live.publish(.deleted, view)
        return .noContent
    }

    // The tenant's note count, through the tenant-scoped cache (5 seconds).
    tenanted.get("stats") { req async throws -> Stats in
        let tenant = try req.requireTenant()
        let cache = try req.tenantCache
        if let count = try await cache.get(DemoServices.statsCacheKey, as: Int.self) { return Stats(tenant: tenant.rawValue, notes: count) }
        let count = try await Note.query(on: req.db).count()
        let lifetime = Int(DemoServices.statsLifetime.components.seconds)
        try await cache.set(DemoServices.statsCacheKey, to: count, expiresIn: .seconds(lifetime))
        return Stats(tenant: tenant.rawValue, notes: count)
    }

    try fileRoutes(tenanted.grouped("files"))

    // Live note events of the request's tenant; no tenant or an unknown one is refused before the
    // upgrade, and the socket closes when the tenant is suspended or destroyed (by any process).
    tenanted.tenantWebSocket("live") { _, socket in
        guard let events = try? services.broadcaster.subscribe() else { return }
        await socket.relay(events)
    }
}

/// `PUT|GET|DELETE /files/:name` and `GET /files`: the tenant's files, streamed in and out.
private func fileRoutes(_ files: any RoutesBuilder) throws {
    files.on(.PUT, ":name", body: .stream) { req async throws -> Response in
        _ = try req.requireTenant()
        let name = req.parameters.get("name") ?? ""
        let size = try await req.tenantFiles.write(name, chunks: req.body.map { Array($0.readableBytesView) })
        return try await FileInfo(name: name, size: size).encodeResponse(status: .created, for: req)
    }
    files.get(":name") { req async throws -> Response in
        _ = try req.requireTenant()
        let reader = try req.tenantFiles.read(req.parameters.get("name") ?? "", chunkSize: DemoServices.fileChunkSize)
        let body = Response.Body(asyncStream: { writer in
            do {
                for try await chunk in reader { try await writer.write(.buffer(ByteBuffer(bytes: chunk))) }
                try await writer.write(.end)
            } catch {
                try await writer.write(.error(error))
            }
        }, count: reader.size)
        var headers = HTTPHeaders()
        headers.contentType = .binary
        return Response(status: .ok, headers: headers, body: body)
    }
    files.get { req async throws -> [String] in
        _ = try req.requireTenant()
        return try await req.tenantFiles.list().map(\.rawValue)
    }
    files.delete(":name") { req async throws -> HTTPStatus in
        _ = try req.requireTenant()
        try await req.tenantFiles.delete(req.parameters.get("name") ?? "")
        return .noContent
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
///
/// Future-based, like Vapor's own `ErrorMiddleware`: as an `AsyncMiddleware` it would start a task
/// of its own for every request and wait for the rest of the chain through its future (two more
/// thread switches per request, for a mapping that never awaits).
struct JSONErrorMiddleware: Middleware {
    struct Body: Encodable { let error: String }

    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        next.respond(to: request).flatMapErrorThrowing { error in try Self.response(for: error, to: request) }
    }

    static func response(for error: any Error, to request: Request) throws -> Response {
        let status: HTTPResponseStatus
        let reason: String
        // A decoding error first: Vapor makes it an AbortError whose reason is the parser's
        // message, which says nothing useful to a client (and tenanted-hummingbird-demo does not).
        if error is DecodingError {
            status = .badRequest
            reason = "invalid JSON"
        } else if let abort = error as? any AbortError {
            status = abort.status
            reason = abort.reason
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
