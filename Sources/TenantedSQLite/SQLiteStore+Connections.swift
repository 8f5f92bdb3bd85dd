import Foundation
import Logging
import NIOPosix
import SQLiteNIO
import Synchronization
import Tenanted

extension SQLiteStore {
    /// A pool on `path`. With an `identity`, every connection checks after opening that it opened
    /// that file, so a stale pool never opens a connection to a newer tenant of the same name.
    func makePool(
        _ tenant: TenantID, path: String, create: Bool, identity: FileIdentity? = nil, writeGuard: WriteGuard? = nil
    ) -> SQLitePool {
        let configuration = configuration
        let busyTimeout = busyTimeoutMilliseconds
        return SQLitePool(tenant: tenant, maximumReaders: configuration.maximumReaders, writeGuard: writeGuard) { reader in
            let connection = try await Self.connect(
                path: path, create: create, reader: reader, busyTimeout: busyTimeout, configuration: configuration
            )
            if let identity, FileIdentity.of(path) != identity {
                await connection.closeEvenIfCancelled()
                throw WriteGuard.staleError(tenant)
            }
            return connection
        }
    }

    /// Opens one connection and applies the per-connection settings.
    static func connect(
        path: String,
        create: Bool,
        reader: Bool,
        busyTimeout: Int,
        configuration: Configuration
    ) async throws -> SQLiteConnection {
        let uri = "file:" + uriEscaped(path) + (create ? "?mode=rwc" : "?mode=rw")
        let connection = try await SQLiteConnection.open(
            storage: .file(path: uri),
            threadPool: configuration.threadPool,
            logger: configuration.logger,
            on: configuration.eventLoopGroup.any()
        )
        do {
            // busy_timeout first: it replaces sqlite-nio's spinning busy handler with a sleeping wait.
            _ = try await connection.query("PRAGMA busy_timeout = \(busyTimeout)")
            let mode = try await connection.query("PRAGMA journal_mode = WAL").first?.column("journal_mode")?.string
            guard mode == "wal" else {
                throw TenantedError(.storeFailure, "SQLite refused WAL mode (journal_mode is \(mode ?? "unknown"))")
            }
            _ = try await connection.query("PRAGMA synchronous = NORMAL")
            _ = try await connection.query("PRAGMA foreign_keys = ON")
            if reader { _ = try await connection.query("PRAGMA query_only = ON") }
            try await configuration.prepareConnection?(connection)
            return connection
        } catch {
            await connection.closeEvenIfCancelled()
            throw error
        }
    }

    /// Percent-escapes a path for an SQLite `file:` URI.
    static func uriEscaped(_ path: String) -> String {
        // Most paths need no escape: return them as they are, without building a new string.
        if path.utf8.allSatisfy(isURISafe) { return path }
        var escaped = ""
        for byte in path.utf8 {
            if isURISafe(byte) {
                escaped.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                escaped += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return escaped
    }

    /// Whether `byte` stands for itself in an SQLite `file:` URI path.
    private static func isURISafe(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "/"), UInt8(ascii: "."),
            UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}
