import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a Tenanted backup file says about itself: its format, the store it came from, the tenant,
/// and the migrations its data had applied.
///
/// A backup file is one line `TENANTED-BACKUP 2` (`1` before tenant files travelled with backups),
/// one line of this header as JSON, the store's payload (an SQLite database, a `pg_dump` archive) of
/// exactly ``payloadBytes`` bytes, then the tenant's files: ``filesBytes`` bytes of entries, each one
/// line `file <size> <name>\n` (the size in decimal, the name a ``TenantFileKey``) followed by
/// exactly `<size>` bytes of the file. Format 1 files (no files section) are still read.
public struct TenantBackupHeader: Codable, Sendable, Hashable {
    /// The version of the file layout: 2 (1 has no files section).
    public var format: Int
    /// The store kind that wrote it (``TenantStore/backupKind``); only that kind restores it.
    public var store: String
    /// The tenant it was taken of.
    public var tenant: String
    /// The migrations the tenant had applied, oldest first. A restore refuses a backup with one the
    /// app does not register (the backup is ahead of the app).
    public var migrations: [String]
    /// When the snapshot was taken, ISO 8601.
    public var createdAt: String
    /// The payload's length in bytes; a file of another length is truncated or damaged.
    public var payloadBytes: Int64
    /// Store-specific facts (the schema name of a schema-per-tenant dump).
    public var details: [String: String]
    /// The length of the files section after the payload; 0 without tenant files (absent in format 1).
    public var filesBytes: Int64
    /// How many tenant files the files section holds.
    public var fileCount: Int
    /// The tenant's files section, written after the store's snapshot and appended (never encoded).
    var filesSection: TenantBackupFilesSection?

    enum CodingKeys: String, CodingKey {
        case format, store, tenant, migrations, createdAt, payloadBytes, details, filesBytes, fileCount
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        format = try container.decode(Int.self, forKey: .format)
        store = try container.decode(String.self, forKey: .store)
        tenant = try container.decode(String.self, forKey: .tenant)
        migrations = try container.decode([String].self, forKey: .migrations)
        createdAt = try container.decode(String.self, forKey: .createdAt)
        payloadBytes = try container.decode(Int64.self, forKey: .payloadBytes)
        details = try container.decode([String: String].self, forKey: .details)
        filesBytes = try container.decodeIfPresent(Int64.self, forKey: .filesBytes) ?? 0
        fileCount = try container.decodeIfPresent(Int.self, forKey: .fileCount) ?? 0
    }

    /// A header for a snapshot of `tenant` taken now; the store fills ``payloadBytes``.
    public init(store: String, tenant: TenantID, migrations: [String], details: [String: String] = [:]) {
        self.format = TenantBackupArchive.format
        self.store = store
        self.tenant = tenant.rawValue
        self.migrations = migrations
        self.createdAt = ISO8601DateFormatter().string(from: Date())
        self.payloadBytes = 0
        self.details = details
        self.filesBytes = 0
        self.fileCount = 0
    }
}

/// A backup file whose header has been read and checked; the stores write and read their payload
/// through it. Every function blocks: call them from a thread pool.
public struct TenantBackupArchive: Sendable {
    /// The file layout version this release writes; it also reads format 1.
    public static let format = 2
    static let magic = "TENANTED-BACKUP \(format)\n"
    static let magicPrefix = "TENANTED-BACKUP "
    /// Headers are small; a longer first stretch without the header's newline is not a backup.
    static let maximumHeaderBytes = 1 << 20

    /// The backup file.
    public let path: String
    /// Its checked header.
    public let header: TenantBackupHeader
    /// Where the payload starts.
    public let payloadOffset: Int64
    /// The tenant files it holds, checked (names, kinds, sizes) when it was opened.
    public let files: [TenantBackupFile]

    /// Opens the backup file at `path` and checks it: it exists, is a regular file, starts with a
    /// Tenanted header, and has exactly the payload length the header states.
    ///
    /// - Throws: ``TenantedError/Code/badBackup`` with a one-line reason (the path is in the
    ///   ``TenantedError/debugDescription`` only).
    public static func open(_ path: String) throws(TenantedError) -> TenantBackupArchive {
        func bad(_ why: String) -> TenantedError {
            TenantedError(.badBackup, "the backup file \(why); nothing was restored", detail: path)
        }
        guard !path.isEmpty, !path.contains("\0") else { throw bad("path is empty or invalid") }
        guard let status = TenantFileSystem.status(path) else { throw bad("does not exist") }
        if status.isDirectory { throw bad("is a directory, not a file") }
        guard status.isRegular else { throw bad("is not a regular file") }
        if status.size == 0 { throw bad("is empty") }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw bad("cannot be read") }
        defer { try? handle.close() }
        let start = (try? handle.read(upToCount: min(Int(status.size), maximumHeaderBytes))) ?? Data()
        let magics = [1, format].map { Data("\(magicPrefix)\($0)\n".utf8) }
        guard let magic = magics.first(where: { start.starts(with: $0) }) else {
            if start.starts(with: Data(magicPrefix.utf8)) { throw bad("has a format this release does not read (it reads formats 1 and \(format))") }
            throw bad("is not a Tenanted backup")
        }
        let afterMagic = start.index(start.startIndex, offsetBy: magic.count)
        guard let newline = start[afterMagic...].firstIndex(of: UInt8(ascii: "\n")) else {
            throw bad("is truncated or damaged (its header is incomplete)")
        }
        let header: TenantBackupHeader
        do {
            header = try JSONDecoder().decode(TenantBackupHeader.self, from: start[afterMagic..<newline])
        } catch {
            throw bad("has a damaged header")
        }
        guard magic == Data("\(magicPrefix)\(header.format)\n".utf8) else { throw bad("has a damaged header (its format does not match)") }
        guard header.payloadBytes >= 0, header.filesBytes >= 0, header.format > 1 || header.filesBytes == 0 else {
            throw bad("has a damaged header")
        }
        let offset = Int64(newline - start.startIndex + 1)
        let actual = status.size - offset
        let expected = header.payloadBytes.addingReportingOverflow(header.filesBytes)
        guard !expected.overflow, actual == expected.partialValue else {
            throw bad(actual < expected.partialValue || expected.overflow
                ? "is truncated (\(actual) of \(expected.overflow ? Int64.max : expected.partialValue) bytes after its header)"
                : "is damaged (\(actual - expected.partialValue) bytes too many)")
        }
        let files = try TenantBackupFile.entries(
            in: handle, from: offset + header.payloadBytes, length: header.filesBytes, count: header.fileCount, path: path
        )
        return TenantBackupArchive(path: path, header: header, payloadOffset: offset, files: files)
    }

    /// Copies the payload into a new file at `destination` with `permissions`, flushed to disk.
    public func extractPayload(to destination: String, permissions: TenantFilePermissions) throws {
        let descriptor = try TenantFileSystem.createNew(destination, permissions)
        do {
            let copied = try TenantFileSystem.copy(from: path, offset: payloadOffset, length: header.payloadBytes, to: descriptor)
            guard copied == header.payloadBytes else {
                throw TenantedError(.badBackup, "the backup file changed while it was read; nothing was restored", detail: path)
            }
            try TenantFileSystem.syncAndClose(descriptor)
        } catch {
            close(descriptor)
            unlink(destination)
            throw error
        }
    }

    /// Writes a backup file at `destination`: the header (with the payload's length) and the file at
    /// `payload`, into a temporary file beside `destination`, flushed, then renamed into place. A
    /// crash leaves either no file or the complete one (and perhaps an unlisted temporary file).
    ///
    /// - Throws: ``TenantedError/Code/invalidConfiguration`` when `destination` exists or is a folder
    ///   (a backup never overwrites), ``TenantedError/Code/storeFailure`` when writing failed.
    public static func write(
        header: TenantBackupHeader, payload: String, to destination: String, permissions: TenantFilePermissions
    ) throws {
        guard let size = TenantFileSystem.status(payload)?.size else {
            throw TenantedError(.storeFailure, "the backup's snapshot file is missing", detail: payload)
        }
        var header = header
        header.payloadBytes = size
        if let section = header.filesSection {
            // After the snapshot: a file the snapshot's rows name was written before it, so it is here.
            header.fileCount = try section.write()
            guard let filesSize = TenantFileSystem.status(section.path)?.size else {
                throw TenantedError(.storeFailure, "the backup's files section is missing", detail: section.path)
            }
            header.filesBytes = filesSize
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let bytes = Data(magic.utf8) + (try encoder.encode(header)) + Data("\n".utf8)
        let temporary = destination + ".partial-\(UUID().uuidString.prefix(8))"
        do {
            let descriptor = try TenantFileSystem.createNew(temporary, permissions)
            do {
                try bytes.withUnsafeBytes { buffer in try TenantFileSystem.write(descriptor, buffer) }
                try TenantFileSystem.copy(from: payload, to: descriptor)
                if let section = header.filesSection {
                    try TenantFileSystem.copy(from: section.path, to: descriptor)
                }
                try TenantFileSystem.syncAndClose(descriptor)
            } catch {
                close(descriptor)
                throw error
            }
            // link(2) refuses an existing destination, so a backup never replaces a file.
            if link(temporary, destination) != 0 {
                let code = errno
                unlink(temporary)
                if code == EEXIST {
                    throw TenantedError(.invalidConfiguration, "the backup destination already exists; a backup never overwrites a file", detail: destination)
                }
                throw TenantFileSystem.Failure("put the backup file in place", code)
            }
            unlink(temporary)
            try TenantFileSystem.sync(TenantFileSystem.parent(of: destination))
        } catch let error as TenantedError {
            throw error
        } catch {
            unlink(temporary)
            throw TenantedError(.storeFailure, "could not write the backup file", underlying: error, detail: destination)
        }
    }
}
