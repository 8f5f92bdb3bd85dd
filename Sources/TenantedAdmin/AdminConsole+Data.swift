import Tenanted

/// What the console shows of one tenant.
struct TenantRow: Sendable {
    var tenant: TenantID
    var server: String?
    var size: Int64?
    var migrations: MigrationStatus?
    var suspension: TenantSuspension?
    var pool: TenantPoolState
    /// What could not be read, for the page (never a path or a secret: ``TenantedError`` messages).
    var problems: [String] = []
}

/// What the overview shows.
struct Overview: Sendable {
    var tenantCount: Int?
    var storeKind: String
    var pools: TenantPoolsSnapshot
    var servers: [(name: String, tenants: Int)]
    var problems: [String]
}

extension AdminConsole {
    /// Rows are read this many tenants at a time.
    static let rowConcurrency = 8

    func readOverview() async -> Overview {
        var problems: [String] = []
        var count: Int?
        do { count = try await tenancy.tenantCount() } catch { problems.append(Self.describe(error)) }
        var servers: [(String, Int)] = []
        if let placing = tenancy.store as? any TenantPlacingStore {
            do {
                let counts = try await placing.tenantCountsByServer()
                servers = placing.serverNames.map { ($0, counts[$0] ?? 0) }
            } catch {
                problems.append(Self.describe(error))
            }
        }
        return Overview(tenantCount: count, storeKind: tenancy.store.backupKind, pools: tenancy.pools.snapshot, servers: servers, problems: problems)
    }

    /// One tenant's row; `nil` when the tenant does not exist.
    func readRow(_ tenant: TenantID) async -> TenantRow? {
        var row = TenantRow(tenant: tenant, pool: tenancy.pools.poolState(of: tenant))
        do {
            row.size = try await tenancy.storageSize(of: tenant)
        } catch let error as TenantedError where error.code == .tenantNotFound {
            return nil
        } catch {
            row.problems.append(Self.describe(error))
        }
        if let placing = tenancy.store as? any TenantPlacingStore {
            do { row.server = try await placing.server(of: tenant) } catch { row.problems.append(Self.describe(error)) }
        }
        do { row.suspension = try await tenancy.suspension(of: tenant) } catch { row.problems.append(Self.describe(error)) }
        do {
            row.migrations = try await tenancy.migrationStatus(tenant)
        } catch let error as TenantedError where error.code == .invalidConfiguration {
            // No migrator: nothing to show.
        } catch {
            row.problems.append(Self.describe(error))
        }
        return row
    }

    /// The rows of `tenants`, in their order, read ``rowConcurrency`` at a time; tenants destroyed
    /// meanwhile are left out.
    func readRows(_ tenants: [TenantID]) async -> [TenantRow] {
        var rows = [TenantRow?](repeating: nil, count: tenants.count)
        await withTaskGroup(of: (Int, TenantRow?).self) { group in
            var next = 0
            func addNext() {
                guard next < tenants.count else { return }
                let index = next
                next += 1
                group.addTask { (index, await self.readRow(tenants[index])) }
            }
            for _ in 0..<Self.rowConcurrency { addNext() }
            while let (index, row) = await group.next() {
                rows[index] = row
                addNext()
            }
        }
        return rows.compactMap { $0 }
    }

    static func describe(_ error: any Error) -> String {
        (error as? TenantedError)?.message ?? "an unexpected error (\(type(of: error)))"
    }
}
