#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch

/// Per-tenant file storage on local disk (Active Storage's disk service, one folder per tenant).
///
/// Each tenant's files live in one folder, from a template such as
/// `storage/tenants/%{tenant}/files` (beside a SQLite tenant's database) or `storage/files/%{tenant}`.
/// Names are ``TenantFileKey``s, so a file is always a plain name inside its tenant's folder, and:
/// - every write is atomic: a temporary file, `fsync`, then `rename` over the name, so a reader sees
///   the old bytes or the new ones, never half;
/// - nothing follows a symbolic link: the tenant's folder and each file are opened with
///   `O_NOFOLLOW`, so a link planted inside a tenant's folder cannot reach outside it;
/// - folders are created `0700` and files `0600` (owner only), whatever the process umask;
/// - blocking file calls run on a Dispatch queue, never on Swift's cooperative pool.
///
/// Destroying a tenant removes its folder after its database: register the files with the
/// tenancy's hooks (``removeOnDestroy(_:)``).
///
/// ```swift
/// let files = try TenantFiles(root: "storage/tenants/%{tenant}/files")
/// var configuration = Tenancy.Configuration()
/// files.removeOnDestroy(&configuration.hooks)
/// // inside a tenant's scope:
/// try await files.write("logo.png", bytes: png)
/// let data = try await files.read("logo.png")
/// ```
public struct TenantFiles: Sendable {
    /// The folder template, with one `%{tenant}`.
    public let template: String
    private let prefix: String
    private let suffix: String

    /// Storage whose tenant folders follow `root`, a path with `%{tenant}` as one whole component.
    /// - Throws: ``TenantedError/Code/invalidConfiguration`` for a template without exactly one
    ///   `%{tenant}` component, or with `.`/`..` components.
    public init(root template: String) throws(TenantedError) {
        func refuse(_ reason: String) -> TenantedError {
            TenantedError(.invalidConfiguration, "tenant files template is invalid: \(reason)", detail: "template: \(template)")
        }
        let components = template.split(separator: "/", omittingEmptySubsequences: false)
        guard components.filter({ $0.contains("%{") }).count == 1,
              components.contains(where: { $0 == "%{tenant}" })
        else { throw refuse("it needs %{tenant} once, as a whole path component") }
        guard !components.contains(where: { $0 == "." || $0 == ".." }) else { throw refuse("it has a '.' or '..' component") }
        guard !template.utf8.contains(0) else { throw refuse("it contains NUL") }
        let parts = template.split(separator: "%{tenant}", omittingEmptySubsequences: false)
        self.template = template
        self.prefix = String(parts[0])
        self.suffix = String(parts[1])
    }

    /// The folder of `tenant`'s files.
    public func folder(of tenant: TenantID) -> String { prefix + tenant.rawValue + suffix }

    // MARK: Current tenant

    /// Writes `bytes` as `key` of the current tenant, atomically, replacing an existing file.
    /// - Throws: ``TenantedError/Code/noTenant`` outside a tenant scope, ``TenantedError/Code/badFileName``,
    ///   or ``TenantedError/Code/storeFailure`` when the disk refuses.
    public func write(_ key: String, bytes: [UInt8]) async throws {
        let writer = try await makeWriter(key)
        do {
            try await writer.write(bytes)
            try await writer.commit()
        } catch {
            await writer.abort()
            throw error
        }
    }

    /// Writes the chunks of `chunks` as `key` of the current tenant, atomically: the file appears
    /// under its name only once every chunk was written and synced. Returns the size written.
    @discardableResult
    public func write<Chunks: AsyncSequence>(_ key: String, chunks: Chunks) async throws -> Int where Chunks.Element == [UInt8] {
        let writer = try await makeWriter(key)
        do {
            for try await chunk in chunks { try await writer.write(chunk) }
            let size = writer.size
            try await writer.commit()
            return size
        } catch {
            await writer.abort()
            throw error
        }
    }

    /// A writer for `key` of the current tenant: write chunks, then ``TenantFileWriter/commit()``
    /// (or ``TenantFileWriter/abort()``).
    public func makeWriter(_ key: String) async throws -> TenantFileWriter {
        let key = try TenantFileKey(key)
        let folder = folder(of: try Tenant.require())
        return try await Self.blocking { () throws(TenantedError) in
            let directory = try Self.openFolder(folder, creating: true)
            let temporary = ".tmp-\(key.rawValue.prefix(40))-\(UInt64.random(in: 0...UInt64.max))"
            let descriptor = openat(directory, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else {
                let code = errno
                close(directory)
                throw Self.failure("create a file", code)
            }
            fchmod(descriptor, 0o600)
            return TenantFileWriter(directory: directory, descriptor: descriptor, temporary: temporary, key: key.rawValue)
        }
    }

    /// The bytes of `key` of the current tenant.
    /// - Throws: ``TenantedError/Code/fileNotFound`` when there is no such file (or it is a link).
    public func read(_ key: String) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await chunk in try read(key, chunkSize: 64 * 1024) { bytes += chunk }
        return bytes
    }

    /// The bytes of `key` of the current tenant, in chunks of at most `chunkSize` bytes. The file is
    /// opened before this returns, so a missing file throws here, not while iterating.
    public func read(_ key: String, chunkSize: Int) throws -> TenantFileReader {
        let key = try TenantFileKey(key)
        let folder = folder(of: try Tenant.require())
        let descriptor = try Self.openFile(key, in: folder)
        return TenantFileReader(descriptor: descriptor, chunkSize: max(1, chunkSize))
    }

    /// The size of `key` of the current tenant in bytes, or `nil` when there is no such file.
    public func size(of key: String) async throws -> Int? {
        let key = try TenantFileKey(key)
        let folder = folder(of: try Tenant.require())
        return try await Self.blocking { () throws(TenantedError) -> Int? in
            guard let directory = try Self.openFolder(folder, creating: false, missingIsNil: true) else { return nil }
            defer { close(directory) }
            var info = stat()
            guard fstatat(directory, key.rawValue, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
                if errno == ENOENT { return nil }
                throw Self.failure("stat a file", errno)
            }
            return (info.st_mode & S_IFMT) == S_IFREG ? Int(info.st_size) : nil
        }
    }

    /// Deletes `key` of the current tenant (a link planted there is removed, never followed).
    /// - Throws: ``TenantedError/Code/fileNotFound`` when there is no such file.
    public func delete(_ key: String) async throws {
        let key = try TenantFileKey(key)
        let folder = folder(of: try Tenant.require())
        try await Self.blocking { () throws(TenantedError) in
            guard let directory = try Self.openFolder(folder, creating: false, missingIsNil: true) else {
                throw TenantedError(.fileNotFound, "no file '\(key)'")
            }
            defer { close(directory) }
            guard unlinkat(directory, key.rawValue, 0) == 0 else {
                if errno == ENOENT { throw TenantedError(.fileNotFound, "no file '\(key)'") }
                throw Self.failure("delete a file", errno)
            }
            fsync(directory)
        }
    }

    /// The names of the current tenant's files, sorted (temporary files of unfinished writes and
    /// anything that is not a plain file with a valid name are left out).
    public func list() async throws -> [TenantFileKey] {
        let folder = folder(of: try Tenant.require())
        return try await Self.blocking { () throws(TenantedError) -> [TenantFileKey] in
            guard let directory = try Self.openFolder(folder, creating: false, missingIsNil: true) else { return [] }
            guard let stream = fdopendir(directory) else {
                close(directory)
                throw Self.failure("list a folder", errno)
            }
            defer { closedir(stream) }
            var keys: [TenantFileKey] = []
            for name in DirectoryListing.names(of: stream) {
                guard let key = try? TenantFileKey(name) else { continue }
                var info = stat()
                guard fstatat(dirfd(stream), name, &info, AT_SYMLINK_NOFOLLOW) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
                keys.append(key)
            }
            return keys.sorted()
        }
    }

    // MARK: Lifecycle

    /// Removes `tenant`'s folder and every file in it (links are removed, never followed). Nothing to
    /// remove is not an error.
    public func removeAll(of tenant: TenantID) async throws {
        let folder = folder(of: tenant)
        let tenantDepth = prefix.split(separator: "/", omittingEmptySubsequences: false).count - 1
        try await Self.blocking { () throws(TenantedError) in
            try Self.removeFolder(folder)
            // The folders above it that are the tenant's alone (`storage/tenants/acme` of
            // `storage/tenants/%{tenant}/files`) go too, once empty.
            var components = folder.split(separator: "/", omittingEmptySubsequences: false)
            while components.count > tenantDepth + 1 {
                components.removeLast()
                if rmdir(components.joined(separator: "/")) != 0 { break }
            }
        }
    }

    /// Makes a tenancy remove a tenant's files after its database is destroyed.
    public func removeOnDestroy(_ hooks: inout TenancyHooks) {
        hooks.afterDestroy { tenant in try await self.removeAll(of: tenant) }
    }

    // MARK: File system

    /// Opens `folder` (creating it and its parents `0700` when asked) without following a link at
    /// its last component.
    static func openFolder(_ folder: String, creating: Bool, missingIsNil: Bool = false) throws(TenantedError) -> Int32? {
        var descriptor = open(folder, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if descriptor < 0, errno == ENOENT, creating {
            try makeFolders(folder)
            descriptor = open(folder, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        }
        guard descriptor >= 0 else {
            if errno == ENOENT, missingIsNil { return nil }
            if errno == ELOOP || errno == ENOTDIR {
                throw TenantedError(.storeFailure, "a tenant's file folder is not a plain folder; refusing to follow it", detail: "folder: \(folder)")
            }
            throw failure("open a tenant's folder", errno, detail: folder)
        }
        return descriptor
    }

    static func openFolder(_ folder: String, creating: Bool) throws(TenantedError) -> Int32 {
        // `creating` or not, a nil only comes with `missingIsNil`.
        guard let descriptor = try openFolder(folder, creating: creating, missingIsNil: false) else {
            throw TenantedError(.storeFailure, "a tenant's file folder is missing")
        }
        return descriptor
    }

    static func makeFolders(_ folder: String) throws(TenantedError) {
        var path = folder.hasPrefix("/") ? "" : "."
        for component in folder.split(separator: "/") {
            path += "/" + component
            if mkdir(path, 0o700) == 0 {
                chmod(path, 0o700)
            } else if errno != EEXIST {
                throw failure("create a tenant's folder", errno, detail: path)
            }
        }
    }

    private static func openFile(_ key: TenantFileKey, in folder: String) throws(TenantedError) -> Int32 {
        guard let directory = try openFolder(folder, creating: false, missingIsNil: true) else {
            throw TenantedError(.fileNotFound, "no file '\(key)'")
        }
        defer { close(directory) }
        let descriptor = openat(directory, key.rawValue, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT || errno == ELOOP { throw TenantedError(.fileNotFound, "no file '\(key)'") }
            throw failure("open a file", errno)
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            throw TenantedError(.fileNotFound, "no file '\(key)'")
        }
        return descriptor
    }

    static func failure(_ action: String, _ code: Int32, detail: String? = nil) -> TenantedError {
        TenantedError(.storeFailure, "could not \(action) (errno \(code))", detail: detail.map { "path: \($0)" })
    }

    /// Runs a blocking file call on a Dispatch queue.
    static func blocking<Value: Sendable>(_ work: @escaping @Sendable () throws(TenantedError) -> Value) async throws(TenantedError) -> Value {
        let result: Result<Value, TenantedError> = await withCheckedContinuation { continuation in
            queue.async {
                do throws(TenantedError) {
                    continuation.resume(returning: .success(try work()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    static let queue = DispatchQueue(label: "tenanted.files", qos: .userInitiated, attributes: .concurrent)
}
