import Foundation
import Tenanted

/// A note, as the API shows it: `{"id","title","body","tenant","createdAt","url"}`, as
/// `tenanted-demo` shows it.
struct Note: Codable, Sendable {
    var id: String
    var title: String
    var body: String
    var tenant: String
    /// ISO 8601, to the second (the stored value also has milliseconds, for ordering).
    var createdAt: String
    /// The note's absolute URL on its tenant's host (``DemoLinks``); not stored.
    var url = ""
}

/// What `POST /notes` and `PATCH /notes/:id` accept.
struct NoteInput: Decodable {
    var title: String?
    var body: String?
}

/// The tenant schema in plain SQL, the same statements on SQLite and PostgreSQL; MySQL's key
/// column needs a length.
enum NoteSchema {
    /// Named as `tenanted-demo`'s Fluent migration, so `tenants status` prints the same.
    static let migrations = [
        SQLMigration(
            name: "TenantedDemo.CreateNotes",
            statements: ["CREATE TABLE notes (id TEXT PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL, created_at TEXT)"],
            revert: ["DROP TABLE notes"]
        )
    ]

    /// ``migrations`` for MySQL and MariaDB (a `TEXT` column cannot be a primary key there).
    static let mysqlMigrations = [
        SQLMigration(
            name: "TenantedDemo.CreateNotes",
            statements: ["CREATE TABLE notes (id VARCHAR(36) PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL, created_at VARCHAR(40)) ENGINE = InnoDB"],
            revert: ["DROP TABLE notes"]
        )
    ]

    /// `created_at` as stored: ISO 8601 with milliseconds, so the text sorts in time order.
    static func timestamp(_ date: Date = Date()) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// `created_at` as shown: to the second, as Vapor's ISO 8601 encoder shows a date.
    static func shown(_ stored: String?) -> String {
        // As `timestamp()` stores it, `YYYY-MM-DDTHH:MM:SS.fffZ`: the same instant to the second without
        // parsing (a date parser per note was a measurable part of `GET /notes/:id`).
        if let stored, stored.utf8.count == 24 {
            let bytes = Array(stored.utf8)
            if bytes[10] == UInt8(ascii: "T"), bytes[19] == UInt8(ascii: "."), bytes[23] == UInt8(ascii: "Z"),
               bytes[20..<23].allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) {
                return String(decoding: bytes[..<19], as: UTF8.self) + "Z"
            }
        }
        guard let stored, let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(stored) else {
            return stored ?? ""
        }
        return date.formatted(Date.ISO8601FormatStyle())
    }
}
