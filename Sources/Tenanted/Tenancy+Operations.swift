import Foundation
import Synchronization
import Logging

extension Tenancy {
    // MARK: Create from a template

    /// Creates `tenant` as a copy of the store's migrated template when the migrator lists its
    /// migrations and ``Configuration/createsFromTemplate`` is on; `false` when it did not apply (the
    /// caller then runs the migrations). The template is made on first use and whenever the list
    /// changes; the seed runs on the copy, in the tenant's scope, before the tenant becomes visible.
    func createFromTemplate(_ tenant: TenantID) async throws -> Bool {
        guard configuration.createsFromTemplate, backend.hasMigrator, let names = backend.registeredMigrations else { return false }
        let owner = ObjectIdentifier(pools)
        let backend = self.backend
        var prepare: ((any Sendable) async throws -> Void)?
        if backend.hasSeed {
            prepare = { pool in try await Self.inScope(tenant, pool, owner: owner) { try await backend.seed(tenant, pool: pool) } }
        }
        try await backend.create(tenant, fromTemplate: TenantTemplate<Never>.key(for: names), build: { pool in
            try await Self.inScope(tenant, pool, owner: owner) {
                do {
                    _ = try await backend.migrate(pool, tenant: tenant)
                } catch {
                    throw TenantedError.migration(tenant, error)
                }
            }
        }, prepare: prepare)
        if !names.isEmpty { delegate.tenantMigrated(tenant, migrations: names) }
        return true
    }

    /// Runs `body` in `tenant`'s scope over `pool`, a pool outside the registry (a create's, a restore's).
    static func inScope<Result>(_ tenant: TenantID, _ pool: any Sendable, owner: ObjectIdentifier, _ body: () async throws -> Result) async throws -> Result {
        let lease = TenantLease(tenant: tenant, pool: pool, owner: owner) {}
        let context = TenantContext(tenant: tenant, lease: lease, prohibitsSwitching: true)
        return try await Tenant.with(context, body)
    }

    // MARK: Backup, restore, clone

    /// Writes a consistent snapshot of `tenant` to a new backup file at `path`, while the tenant keeps
    /// serving reads and writes.
    ///
    /// The file is written beside `path` under a temporary name, flushed, and only then linked into
    /// place: a crash leaves no file or the whole one. Its header (``TenantBackupHeader``) names the
    /// format, the store kind, the tenant and the migrations the snapshot had applied. It is created
    /// with the store's file permissions (owner-only by default). A suspended tenant can be backed up.
    ///
    /// - Returns: the header written.
    /// - Throws: ``TenantedError/Code/tenantNotFound``; ``TenantedError/Code/invalidConfiguration``
    ///   when `path` is empty, exists (a backup never overwrites) or its folder does not exist;
    ///   ``TenantedError/Code/storeFailure`` when the snapshot or the write failed.
    @discardableResult
    public func backup(_ tenant: TenantID, to path: String) async throws -> TenantBackupHeader {
        try Self.checkBackupDestination(path)
        guard try await store.exists(tenant) else { throw TenantedError.notFound(tenant, "backup") }
        let files = configuration.files
        let header = try await pools.withOperation(on: tenant) {
            let migrations = try await appliedMigrationsIgnoringSuspension(tenant)
            var header = TenantBackupHeader(store: store.backupKind, tenant: tenant, migrations: migrations)
            guard let files else {
                try await store.backup(tenant, to: path, header: header)
                return header
            }
            let folder = try Self.privateTemporaryFolder()
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let section = folder + "/files.section"
            // A private temporary file; the backup file itself gets the store's permissions.
            header.filesSection = TenantBackupFilesSection(path: section) {
                try files.writeBackupSection(of: tenant, to: section, permissions: .ownerOnly)
            }
            try await store.backup(tenant, to: path, header: header)
            // What was written, as the file says.
            return try TenantBackupArchive.open(path).header
        }
        logger.info("backed up tenant", metadata: [Logger.tenantMetadataKey: "\(tenant)"])
        return header
    }

    /// Creates `tenant` from the backup file at `path`: invisible until complete, then migrated to
    /// the app's migrations.
    ///
    /// The file must be a Tenanted backup of this store kind whose migrations the app registers (a
    /// backup *ahead* of the app is refused); pending migrations are applied before the tenant
    /// becomes visible. The backup may be of another tenant (that is how ``clone(_:to:)`` works).
    ///
    /// Without `replace`, an existing tenant is refused and left untouched. With `replace`, the
    /// existing tenant's data is replaced by the backup's as one step: this process's pool closes
    /// first, other processes see the new data from their next use of the tenant, and while the
    /// restore runs the tenant is unavailable. A failed restore leaves the existing tenant as it was.
    /// A restore that makes a new tenant runs the create hooks (``TenancyHooks/beforeCreate(_:)``
    /// can refuse it, a reserved name for example); one that replaces a tenant runs none.
    ///
    /// - Throws: ``TenantedError/Code/badBackup`` (missing, a folder, empty, not a backup, truncated,
    ///   another store's, ahead of the app) with nothing created; ``TenantedError/Code/tenantExists``
    ///   without `replace`; ``TenantedError/Code/migrationFailed`` when a pending migration failed.
    public func restore(_ tenant: TenantID, from path: String, replace: Bool = false) async throws {
        let archive = try TenantBackupArchive.open(path)
        let header = archive.header
        guard header.store == store.backupKind else {
            throw TenantedError(
                .badBackup,
                "the backup file is of a '\(header.store)' store and cannot be restored into this '\(store.backupKind)' store; nothing was restored",
                tenant: tenant, detail: path
            )
        }
        let registered = backend.registeredMigrations
        if let registered {
            let unknown = header.migrations.filter { !registered.contains($0) }
            if let first = unknown.first {
                throw TenantedError.ahead(tenant, unknown: unknown.count, first: first)
            }
        }
        let existed = try await store.exists(tenant)
        if !replace, existed {
            throw TenantedError(
                .tenantExists, "cannot restore tenant '\(tenant)': it exists; restore with replace (--replace) to replace it",
                tenant: tenant
            )
        }
        // A restore that makes a new tenant is a create: the create hooks run (reserved names).
        if !existed { try await TenancyHooks.run(configuration.hooks.beforeCreate, tenant) }
        let backend = self.backend
        let owner = ObjectIdentifier(pools)
        @Sendable func migrateRestored(_ pool: any Sendable) async throws {
            guard backend.hasMigrator else { return }
            try await Self.inScope(tenant, pool, owner: owner) {
                if let registered {
                    let applied = try await backend.appliedMigrations(on: pool, tenant: tenant)
                    let unknown = applied.filter { !registered.contains($0) }
                    if let first = unknown.first { throw TenantedError.ahead(tenant, unknown: unknown.count, first: first) }
                }
                do {
                    _ = try await backend.migrate(pool, tenant: tenant)
                } catch {
                    throw TenantedError.migration(tenant, error)
                }
            }
        }
        // Format 1 backups predate tenant files: they leave the tenant's files as they are.
        let files = archive.header.format >= 2 ? configuration.files : nil
        let swapped = RestoredFiles()
        let prepare: (any Sendable) async throws -> Void = { pool in
            try await migrateRestored(pool)
            // Last, so nothing can fail after it but the store's own swap: the backup's files take the
            // place of the tenant's before the tenant becomes visible.
            if let files {
                let aside = try await TenantFiles.blocking { () throws(TenantedError) in
                    let staged = try files.stageRestore(of: archive, for: tenant)
                    return try files.swapIn(staged, for: tenant)
                }
                swapped.record(aside: aside)
            }
        }
        do {
            if replace {
                try await pools.closing(tenant) {
                    try await backend.restore(tenant, from: archive, replace: true, prepare: prepare)
                }
            } else {
                try await backend.restore(tenant, from: archive, replace: false, prepare: prepare)
            }
        } catch {
            if let files, let aside = swapped.swapped {
                _ = try? await TenantFiles.blocking { () throws(TenantedError) in files.undoRestore(for: tenant, aside: aside) }
            }
            throw error
        }
        if let files, let aside = swapped.swapped {
            _ = try? await TenantFiles.blocking { () throws(TenantedError) in files.finishRestore(aside: aside) }
        }
        logger.info("restored tenant", metadata: [Logger.tenantMetadataKey: "\(tenant)", "from": "\(header.tenant)", "replaced": "\(existed)"])
        delegate.tenantCreated(tenant)
        if !existed { try await TenancyHooks.run(configuration.hooks.afterCreate, tenant) }
    }

    /// Creates `destination` with a copy of `source`'s data: a backup of `source` restored as
    /// `destination`. The two share nothing afterwards; writes to one never reach the other.
    ///
    /// - Throws: ``TenantedError/Code/tenantNotFound`` for `source`, ``TenantedError/Code/tenantExists``
    ///   for `destination`, ``TenantedError/Code/invalidConfiguration`` when they are the same tenant.
    public func clone(_ source: TenantID, to destination: TenantID) async throws {
        guard source != destination else {
            throw TenantedError(.invalidConfiguration, "cannot clone tenant '\(source)' onto itself", tenant: source)
        }
        if try await store.exists(destination) { throw TenantedError.exists(destination) }
        let folder = try Self.privateTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = folder + "/clone.tenanted-backup"
        try await backup(source, to: file)
        try await restore(destination, from: file, replace: false)
        logger.info("cloned tenant", metadata: [Logger.tenantMetadataKey: "\(destination)", "source": "\(source)"])
    }

    // MARK: Suspend, resume

    /// Suspends `tenant` (per-tenant maintenance): every process refuses it from its next use on.
    ///
    /// Entering a suspended tenant — ``withTenant(_:prohibitingSwitches:isolation:_:)``, and so every
    /// request — throws ``TenantedError/Code/tenantSuspended``, which the web front ends answer with
    /// 503, a JSON `{"error"}` body and a `Retry-After` header. Writes are refused; this process's
    /// pool is closed (after the scopes in progress end), and other processes' pools are retired
    /// before their next scope. ``backup(_:to:)``, ``migrationStatus(_:)``, ``resume(_:)`` and
    /// ``destroyTenant(_:)`` still work. Other tenants are not affected.
    ///
    /// - Parameter reason: for operators (``suspension(of:)``, logs); never shown to clients. At most
    ///   500 characters, no control characters.
    /// - Throws: ``TenantedError/Code/tenantNotFound`` for an unknown tenant,
    ///   ``TenantedError/Code/invalidConfiguration`` for a bad reason or a store that cannot suspend.
    public func suspend(_ tenant: TenantID, reason: String? = nil) async throws {
        if let reason {
            guard reason.count <= 500, !reason.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw TenantedError(.invalidConfiguration, "a suspension reason must be at most 500 characters, without control characters", tenant: tenant)
            }
        }
        try await pools.closing(tenant) {
            try await store.suspend(tenant, reason: reason)
        }
        logger.notice("suspended tenant", metadata: [Logger.tenantMetadataKey: "\(tenant)", "reason": "\(reason ?? "")"])
    }

    /// Lifts `tenant`'s suspension: every process serves it again from its next use on. Resuming a
    /// tenant that is not suspended does nothing.
    ///
    /// - Throws: ``TenantedError/Code/tenantNotFound`` for an unknown tenant.
    public func resume(_ tenant: TenantID) async throws {
        try await store.resume(tenant)
        logger.notice("resumed tenant", metadata: [Logger.tenantMetadataKey: "\(tenant)"])
    }

    /// `tenant`'s suspension, or `nil` when it is not suspended.
    ///
    /// - Throws: ``TenantedError/Code/tenantNotFound`` for an unknown tenant.
    public func suspension(of tenant: TenantID) async throws -> TenantSuspension? {
        try await store.suspension(of: tenant)
    }

    // MARK: Helpers

    /// The migrations `tenant` has applied, read on a pool of its own (also when suspended).
    func appliedMigrationsIgnoringSuspension(_ tenant: TenantID) async throws -> [String] {
        guard backend.hasMigrator else { return [] }
        let pool = try await backend.openIgnoringSuspension(tenant)
        do {
            let applied = try await backend.appliedMigrations(on: pool, tenant: tenant)
            await backend.close(pool)
            return applied
        } catch {
            await backend.close(pool)
            throw error
        }
    }

    /// Refuses an empty path, an existing file or folder, and a path whose folder does not exist.
    static func checkBackupDestination(_ path: String) throws(TenantedError) {
        func bad(_ why: String) -> TenantedError {
            TenantedError(.invalidConfiguration, "the backup destination \(why)", detail: path)
        }
        guard !path.isEmpty, !path.contains("\0") else { throw bad("is empty or invalid") }
        if let status = TenantFileSystem.status(path) {
            throw bad(status.isDirectory ? "is a folder; name a new file" : "already exists; a backup never overwrites a file")
        }
        guard TenantFileSystem.status(TenantFileSystem.parent(of: path))?.isDirectory == true else {
            throw bad("is in a folder that does not exist")
        }
    }

    /// A new folder only this user can read, under the system's temporary folder.
    static func privateTemporaryFolder() throws(TenantedError) -> String {
        var template = Array((FileManager.default.temporaryDirectory.path + "/tenanted-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard let made else {
            throw TenantedError(.storeFailure, "could not create a temporary folder", underlying: TenantFileSystem.Failure("mkdtemp"))
        }
        return String(cString: made)
    }
}

/// Whether a restore put the backup's files in place, and where the tenant's previous files went.
private final class RestoredFiles: Sendable {
    private let state = Mutex<String??>(nil)

    func record(aside: String?) { state.withLock { $0 = .some(aside) } }

    /// `nil` when nothing was swapped in; else the previous folder's place (itself `nil` when none).
    var swapped: String?? { state.withLock { $0 } }
}

extension TenantedError {
    /// `badBackup` for a backup with migrations the app does not register.
    static func ahead(_ tenant: TenantID, unknown: Int, first: String) -> TenantedError {
        TenantedError(
            .badBackup,
            "the backup has \(unknown) migration(s) this app does not register, first '\(first)' (it is ahead of the app); deploy the newer app to restore it; nothing was restored",
            tenant: tenant
        )
    }
}
