import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import Tenanted
import TenantedDemoSupport
import TenantedHummingbird

/// The demo's HTTP interface, `tenanted-demo`'s: `/health` is untenanted; `/notes…`, `/stats`,
/// `/files…` and `/live` run in the tenant named by the first label of the host under the base domain.
enum NoteRoutes {
    typealias Context = BasicTenantRequestContext

    static func router(
        tenancy: Tenancy, baseDomain: String, store: DemoEnvironment.StoreKind, services: DemoServices, port: ListeningPort
    ) throws -> Router<Context> {
        let router = Router(context: Context.self)
        router.add(middleware: JSONErrorMiddleware())
        router.get("health") { _, _ in "ok" }

        let tenanted = router.group().add(middleware: TenantMiddleware(tenancy: tenancy, resolver: try .subdomain(of: baseDomain)))
        let notes = tenanted.group("notes")
        let repository = noteRepository(for: store)
        let live = LiveNotes(broadcaster: services.broadcaster, links: DemoLinksCache(baseDomain: baseDomain), port: port)

        notes.get { _, context in
            try json(try await repository.all(context).map { try live.view($0, context) })
        }

        notes.post { request, context in
            let tenant = try context.requireTenant()
            let input = try await decode(request, context)
            guard let title = input.title, !title.isEmpty else { throw DemoError(.badRequest, "title is required") }
            let createdAt = NoteSchema.timestamp()
            let note = Note(id: UUID().uuidString, title: title, body: input.body ?? "", tenant: tenant.description, createdAt: NoteSchema.shown(createdAt))
            try await repository.insert(note, createdAt: createdAt, context)
            let view = try live.view(note, context)
            try live.publish(.created, view, context)
            return try json(view, status: .created)
        }

        notes.get(":id") { _, context in
            try json(try live.view(try await find(context, repository), context))
        }

        notes.patch(":id") { request, context in
            var note = try await find(context, repository)
            let input = try await decode(request, context)
            if let title = input.title {
                guard !title.isEmpty else { throw DemoError(.badRequest, "title cannot be empty") }
                note.title = title
            }
            if let body = input.body { note.body = body }
            try await repository.update(note, context)
            let view = try live.view(note, context)
            try live.publish(.updated, view, context)
            return try json(view)
        }

        notes.delete(":id") { _, context in
            let note = try await find(context, repository)
            let view = try live.view(note, context)
            guard try await repository.delete(note.id, context) else { throw DemoError(.notFound, "note not found") }
            try live.publish(.deleted, view, context)
            return Response(status: .noContent)
        }

        // The tenant's note count, through the tenant-scoped persist driver (5 seconds).
        let persist = MemoryPersistDriver()
        tenanted.get("stats") { _, context in
            let tenant = try context.requireTenant()
            let cache = try context.tenantPersist(persist)
            if let count = try await cache.get(key: DemoServices.statsCacheKey, as: Int.self) {
                return try json(DemoStats(tenant: tenant.rawValue, notes: count))
            }
            let count = try await repository.count(context)
            try await cache.set(key: DemoServices.statsCacheKey, value: count, expires: DemoServices.statsLifetime)
            return try json(DemoStats(tenant: tenant.rawValue, notes: count))
        }

        FileRoutes.add(to: tenanted.group("files"), files: services.files)

        // Live note events of the request's tenant; no tenant or an unknown one is refused before the
        // upgrade, and the socket closes when the tenant is suspended or destroyed (by any process).
        tenanted.tenantWebSocket("live", tenancy: tenancy) { inbound, outbound, context in
            guard let events = try? context.requestContext.subscribe(to: services.broadcaster) else { return }
            await outbound.relay(events, inbound: inbound)
        }
        return router
    }

    /// The note named by the `:id` parameter in the request's tenant; 404 when there is none.
    private static func find(_ context: Context, _ repository: any NoteRepository) async throws -> Note {
        _ = try context.requireTenant()
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)),
              let note = try await repository.find(id.uuidString, context)
        else {
            throw DemoError(.notFound, "note not found")
        }
        return note
    }

    private static func decode(_ request: Request, _ context: Context) async throws -> NoteInput {
        let body = try await request.body.collect(upTo: 1 << 20)
        do {
            return try JSONDecoder().decode(NoteInput.self, from: Data(body.readableBytesView))
        } catch {
            throw DemoError(.badRequest, "invalid JSON")
        }
    }

    /// `value` as JSON, encoded as `tenanted-demo` encodes it (``DemoServices/jsonEncoder()``), so
    /// both demos answer with the same bytes.
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: try DemoServices.jsonEncoder().encode(value)))
        )
    }
}

/// An error the demo answers with its own status and `{"error": reason}`.
struct DemoError: Error {
    let status: HTTPResponse.Status
    let reason: String

    init(_ status: HTTPResponse.Status, _ reason: String) {
        self.status = status
        self.reason = reason
    }
}

/// Renders every error as `{"error": "<reason>"}` with the error's status; unexpected errors are a
/// 500 whose details go to the log only. (`tenanted-demo`'s `JSONErrorMiddleware`.)
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    struct Body: Encodable { let error: String }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let status: HTTPResponse.Status
            let reason: String
            switch error {
            case let error as DemoError:
                (status, reason) = (error.status, error.reason)
            case let error as TenantedError:
                if error.status == .internalServerError { context.logger.error("request failed: \(String(reflecting: error))") }
                return try error.response(from: request, context: context)  // the wing's {"error": …}
            case let error as HTTPError:
                (status, reason) = (error.status, error.body ?? error.status.reasonPhrase)
            default:
                (status, reason) = (.internalServerError, "internal error")
            }
            if status == .internalServerError { context.logger.error("request failed: \(String(reflecting: error))") }
            return try NoteRoutes.json(Body(error: reason), status: status)
        }
    }
}
