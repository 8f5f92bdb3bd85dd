import Foundation
import Tenanted
import TenantedDemoSupport
import TenantedVapor
import Vapor

/// A note as the API shows it: the model's fields and its absolute URL on the tenant's host.
struct NoteView: Content {
    var id: UUID?
    var title: String
    var body: String
    var tenant: TenantID?
    var createdAt: Date?
    var url: String
}

/// `GET /stats`.
struct Stats: Content {
    let tenant: String
    let notes: Int
}

/// `PUT /files/:name`'s answer.
struct FileInfo: Content {
    let name: String
    let size: Int
}

/// Notes as views with their URLs, and the note events of `GET /live`.
struct LiveNotes: Sendable {
    typealias Event = DemoNoteMessage<NoteView>.Event

    let broadcaster: TenantBroadcaster<String>
    let links: DemoLinksCache

    /// `note` with its URL, `http://<tenant>.<base-domain>:<port>/notes/<id>`, on the port the server listens on.
    func view(_ note: Note, for req: Request) throws -> NoteView {
        let tenant = try req.requireTenant()
        let port = req.application.http.server.shared.localAddress?.port ?? req.application.http.server.configuration.port
        let links = try links.links(port: port)
        return NoteView(
            id: note.id, title: note.title, body: note.body, tenant: note.tenant ?? tenant, createdAt: note.createdAt,
            url: links.note(note.id?.uuidString ?? "", of: tenant)
        )
    }

    /// Sends `event` to the current tenant's live sockets.
    func publish(_ event: Event, _ note: NoteView) throws {
        let data = try ContentConfiguration.global.requireEncoder(for: .json)
        var buffer = ByteBuffer()
        var headers = HTTPHeaders()
        try data.encode(DemoNoteMessage(event: event, note: note), to: &buffer, headers: &headers)
        try broadcaster.publish(String(buffer: buffer))
    }
}
