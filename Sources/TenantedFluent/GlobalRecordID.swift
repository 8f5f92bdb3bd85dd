public import FluentKit
import Foundation
public import Tenanted

/// A stable reference to one record of one tenant, for jobs, links and anything that outlives a
/// request: tenant + model + ID, with the string form of Rails' GlobalID as activerecord-tenanted
/// writes it.
///
/// ```swift
/// let reference = try GlobalRecordID(note, app: "notes")
/// reference.description          // "gid://notes/Note/42?tenant=acme"
/// let same = try GlobalRecordID<Note>(parsing: reference.description)
///
/// // later, in a job:
/// try await tenancy.withTenant(same.tenant) {
///     let note = try await same.find(on: app.db)
/// }
/// ```
///
/// It is `Codable` as its string form. ``find(on:)`` checks the database's tenant first, like
/// activerecord-tenanted's GlobalID locator: no tenant → ``Tenanted/TenantedError/Code/noTenant``,
/// another tenant → ``Tenanted/TenantedError/Code/wrongTenant``; a tenant that no longer exists fails
/// with ``Tenanted/TenantedError/Code/tenantNotFound`` when the database leases it.
public struct GlobalRecordID<Record: Model>: Sendable, Hashable, Codable, LosslessStringConvertible
where Record.IDValue: GlobalRecordIDValue {
    /// The application's name, the URI's host: letters, digits and `-`, 1–63 characters.
    public let app: String
    /// The tenant the record lives in.
    public let tenant: TenantID
    /// The record's ID.
    public let id: Record.IDValue

    /// The model's name in the string form: its type name.
    public static var modelName: String { String(describing: Record.self) }

    /// Creates a reference.
    /// - Throws: ``Tenanted/TenantedError/Code/invalidConfiguration`` for an invalid `app`.
    public init(app: String, tenant: TenantID, id: Record.IDValue) throws(TenantedError) {
        try Self.validate(app: app)
        self.app = app
        self.tenant = tenant
        self.id = id
    }

    /// A reference to a record that was loaded from or saved to a tenant (see ``TenantOriginProperty``).
    /// - Throws: ``Tenanted/TenantedError/Code/misuse`` when the record has no `@TenantOrigin`
    ///   property or has not been loaded or saved yet; ``Tenanted/TenantedError/Code/invalidConfiguration``
    ///   when it has no ID or `app` is invalid.
    public init(_ record: Record, app: String) throws(TenantedError) {
        guard let origin = TenantOriginLookup.property(of: record) else {
            throw TenantedError(.misuse, "\(Self.modelName) has no @TenantOrigin property, so its tenant is unknown; add one to make references to it")
        }
        guard let tenant = origin.origin else {
            throw TenantedError(.misuse, "this \(Self.modelName) has not been loaded from or saved to a tenant yet")
        }
        guard let id = record.id else {
            throw TenantedError(.invalidConfiguration, "this \(Self.modelName) has no ID yet; save it first")
        }
        try self.init(app: app, tenant: tenant, id: id)
    }

    /// Parses the string form `gid://<app>/<Model>/<id>?tenant=<tenant>`; other query parameters may
    /// come before `tenant`, as in GlobalID.
    /// - Throws: ``Tenanted/TenantedError/Code/badReference`` for a malformed reference, one of another
    ///   model, or one that names no tenant (a reference to a tenanted record always does);
    ///   ``Tenanted/TenantedError/Code/badTenantName`` for an invalid tenant name.
    public init(parsing string: String) throws(TenantedError) {
        let prefix = "gid://"
        guard string.utf8.count <= 2_048, string.hasPrefix(prefix) else {
            throw TenantedError(.badReference, "not a record reference: it must start with gid:// (at most 2048 bytes)")
        }
        let rest = string.dropFirst(prefix.count)
        let pathPart: Substring
        let queryPart: Substring?
        if let mark = rest.firstIndex(of: "?") {
            pathPart = rest[..<mark]
            queryPart = rest[rest.index(after: mark)...]
        } else {
            pathPart = rest
            queryPart = nil
        }
        let segments = pathPart.split(separator: "/", omittingEmptySubsequences: false)
        guard segments.count == 3 else {
            throw TenantedError(.badReference, "a record reference has the form gid://<app>/<Model>/<id>?tenant=<tenant>")
        }
        guard segments[1] == Self.modelName else {
            throw TenantedError(.badReference, "the reference is not to a \(Self.modelName)")
        }
        guard let idString = String(segments[2]).removingPercentEncoding, !idString.isEmpty,
              let id = Record.IDValue(globalRecordIDString: idString) else {
            throw TenantedError(.badReference, "the reference's ID is not a valid \(Record.IDValue.self)")
        }
        var tenantName: String?
        for parameter in queryPart?.split(separator: "&") ?? [] {
            let pair = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if pair.count == 2, pair[0] == "tenant" { tenantName = String(pair[1]) }
        }
        guard let tenantName else {
            throw TenantedError(.badReference, "the reference names no tenant (no tenant= parameter)")
        }
        let tenant = try TenantID(tenantName)
        do {
            try self.init(app: String(segments[0]), tenant: tenant, id: id)
        } catch where error.code == .invalidConfiguration {
            // An invalid app name is a malformed reference here, not the caller's configuration.
            throw TenantedError(.badReference, error.message, tenant: tenant)
        }
    }

    /// Parses the string form; `nil` when it is not a valid reference to this model.
    public init?(_ description: String) {
        guard let parsed = try? Self(parsing: description) else { return nil }
        self = parsed
    }

    /// `gid://<app>/<Model>/<id>?tenant=<tenant>`, the ID percent-encoded.
    public var description: String {
        let unreserved = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
        let idString = id.globalRecordIDString.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
        return "gid://\(app)/\(Self.modelName)/\(idString)?tenant=\(tenant)"
    }

    /// Finds the record on `database`, which must be the reference's tenant's database (`req.db` or
    /// `app.db` inside the tenant's scope).
    ///
    /// - Returns: the record, or `nil` when the tenant has no such record.
    /// - Throws: ``Tenanted/TenantedError/Code/noTenant`` when `database` has no tenant,
    ///   ``Tenanted/TenantedError/Code/wrongTenant`` when it is another tenant's,
    ///   ``Tenanted/TenantedError/Code/tenantNotFound`` when the tenant no longer exists.
    public func find(on database: any Database) async throws -> Record? {
        guard let current = (database as? any TenantBoundDatabase)?.tenant else {
            throw TenantedError(.noTenant, "finding \(self) needs a tenant's database, and this one has no tenant", tenant: tenant)
        }
        guard current == tenant else {
            throw TenantedError(
                .wrongTenant, "\(self) does not belong to the current tenant '\(current)'", tenant: current
            )
        }
        return try await Record.find(id, on: database)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let string = try container.decode(String.self)
        do {
            self = try Self(parsing: string)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    private static func validate(app: String) throws(TenantedError) {
        guard ASCIIAllowlist.hostLabel.allows(app) else {
            throw TenantedError(.invalidConfiguration, "a record reference's app name must be 1–63 letters, digits or '-'")
        }
    }
}

/// A model ID type with a string form for ``GlobalRecordID``.
public protocol GlobalRecordIDValue: Hashable, Sendable {
    /// Parses the string form; `nil` when invalid.
    init?(globalRecordIDString: String)
    /// The string form.
    var globalRecordIDString: String { get }
}

extension UUID: GlobalRecordIDValue {
    public init?(globalRecordIDString: String) { self.init(uuidString: globalRecordIDString) }
    public var globalRecordIDString: String { uuidString }
}

extension String: GlobalRecordIDValue {
    public init?(globalRecordIDString: String) { self = globalRecordIDString }
    public var globalRecordIDString: String { self }
}

extension Int: GlobalRecordIDValue {
    public init?(globalRecordIDString: String) { self.init(globalRecordIDString, radix: 10) }
    public var globalRecordIDString: String { String(self) }
}

extension Int64: GlobalRecordIDValue {
    public init?(globalRecordIDString: String) { self.init(globalRecordIDString, radix: 10) }
    public var globalRecordIDString: String { String(self) }
}
