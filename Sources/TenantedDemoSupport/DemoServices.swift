public import Foundation
import Synchronization
public import Tenanted

/// What both demos' routes share besides the database, each partitioned by tenant: the tenants'
/// files (`/files`) and the live note events (`GET /live`).
public struct DemoServices: Sendable {
    /// The tenants' files (``DemoEnvironment/tenantFiles()``).
    public let files: TenantFiles
    /// The note events of `GET /live`, as JSON text.
    public let broadcaster: TenantBroadcaster<String>

    /// The services of `environment`'s storage.
    /// - Throws: ``Tenanted/TenantedError/Code/invalidConfiguration`` for a storage root the files
    ///   template refuses.
    public init(_ environment: DemoEnvironment) throws {
        files = try environment.tenantFiles()
        broadcaster = TenantBroadcaster()
    }

    /// Ties the services to the tenant lifecycle: a destroyed tenant's files go after its database,
    /// and its live sockets close.
    public func removeOnDestroy(_ hooks: inout TenancyHooks) {
        files.removeOnDestroy(&hooks)
        broadcaster.closeOnDestroy(&hooks)
    }

    /// The tenant-cache key of `GET /stats`'s note count.
    public static let statsCacheKey = "notes-count"
    /// How long `GET /stats` keeps a tenant's note count in the tenant cache.
    public static let statsLifetime: Duration = .seconds(5)
    /// The largest chunk a demo streams a tenant file in.
    public static let fileChunkSize = 64 * 1024

    /// The JSON encoder of both demos' answers: keys sorted (an unsorted encoder writes them in hash
    /// order, which differs from process to process), slashes unescaped, dates in ISO 8601 — so the
    /// two demos answer with the same bytes.
    public static func jsonEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }
}

/// The absolute URLs of a demo's notes: `http://<tenant>.<base-domain>:<port>/notes/<id>`.
public struct DemoLinks: Sendable {
    private let template: TenantURLTemplate
    /// The port the links carry.
    public let port: Int

    /// Links on `baseDomain` (already checked by ``DemoEnvironment/validDomain(_:)``) and `port`.
    /// - Throws: ``Tenanted/TenantedError/Code/invalidConfiguration`` when they make no valid template.
    public init(baseDomain: String, port: Int) throws(TenantedError) {
        template = try TenantURLTemplate("http://%{tenant}.\(baseDomain):\(port)")
        self.port = port
    }

    /// The URL of note `id` of `tenant`.
    public func note(_ id: String, of tenant: TenantID) -> String {
        template.url(for: tenant, path: "/notes/\(id)")
    }
}

/// A demo's ``DemoLinks``, made once for the port the server listens on (known only once it runs)
/// and again only if that port changes: every note a demo answers with carries its URL.
public final class DemoLinksCache: Sendable {
    private let baseDomain: String
    private let links = Mutex<DemoLinks?>(nil)

    /// Links on `baseDomain` (already checked by ``DemoEnvironment/validDomain(_:)``).
    public init(baseDomain: String) {
        self.baseDomain = baseDomain
    }

    /// The links for `port`.
    /// - Throws: ``Tenanted/TenantedError/Code/invalidConfiguration`` when they make no valid template.
    public func links(port: Int) throws(TenantedError) -> DemoLinks {
        if let cached = links.withLock({ $0 }), cached.port == port { return cached }
        let made = try DemoLinks(baseDomain: baseDomain, port: port)
        links.withLock { $0 = made }
        return made
    }
}

/// `GET /stats`: `{"tenant": …, "notes": N}`.
public struct DemoStats: Codable, Sendable {
    public let tenant: String
    public let notes: Int

    public init(tenant: String, notes: Int) {
        self.tenant = tenant
        self.notes = notes
    }
}

/// `PUT /files/:name`'s answer: `{"name": …, "size": N}`.
public struct DemoFileInfo: Codable, Sendable {
    public let name: String
    public let size: Int

    public init(name: String, size: Int) {
        self.name = name
        self.size = size
    }
}

/// What `GET /live` sends: `{"event": "created"|"updated"|"deleted", "note": {…}}`.
public struct DemoNoteMessage<Note: Encodable & Sendable>: Encodable, Sendable {
    /// What happened to the note.
    public enum Event: String, Encodable, Sendable { case created, updated, deleted }

    public let event: Event
    public let note: Note

    public init(event: Event, note: Note) {
        self.event = event
        self.note = note
    }
}
