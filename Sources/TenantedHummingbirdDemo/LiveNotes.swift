import Foundation
import Synchronization
import Tenanted
import TenantedDemoSupport
import TenantedHummingbird

/// The port the server listens on, known once it runs (`--port 0` picks one): note URLs carry it.
final class ListeningPort: Sendable {
    private let port: Mutex<Int>

    init(_ port: Int) { self.port = Mutex(port) }

    var value: Int { port.withLock { $0 } }

    func set(_ value: Int?) {
        guard let value else { return }
        port.withLock { $0 = value }
    }
}

/// Notes with their URLs, and the note events of `GET /live`.
struct LiveNotes: Sendable {
    typealias Event = DemoNoteMessage<Note>.Event

    let broadcaster: TenantBroadcaster<String>
    let links: DemoLinksCache
    let port: ListeningPort

    /// `note` with its URL, `http://<tenant>.<base-domain>:<port>/notes/<id>`.
    func view(_ note: Note, _ context: some TenantRequestContext) throws -> Note {
        var view = note
        view.url = try links.links(port: port.value).note(note.id, of: try context.requireTenant())
        return view
    }

    /// Sends `event` to the request's tenant's live sockets.
    func publish(_ event: Event, _ note: Note, _ context: some TenantRequestContext) throws {
        let text = String(decoding: try DemoServices.jsonEncoder().encode(DemoNoteMessage(event: event, note: note)), as: UTF8.self)
        try context.publish(text, on: broadcaster)
    }
}
