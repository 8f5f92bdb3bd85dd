import Foundation
public import Tenanted

extension SQLiteStore {
    /// The bytes of `tenant`'s database file and its write-ahead log.
    ///
    /// - Throws: ``TenantedError/Code/tenantNotFound`` when the tenant does not exist.
    public func storageSize(of tenant: TenantID) async throws -> Int64? {
        let path = databasePath(for: tenant)
        guard try await settledReady(path) else { throw TenantedError.notFound(tenant, "measure") }
        return try await onThreadPool {
            ["", "-wal"].reduce(Int64(0)) { total, suffix in
                var info = stat()
                return lstat(path + suffix, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG ? total + Int64(info.st_size) : total
            }
        }
    }

    /// One page of tenants: the directory's names are sorted and filtered first, and only the names
    /// the page could hold are checked for readiness (a stat and a lock probe each), so a page of
    /// 100 out of 100,000 tenants probes about 100 files, not 100,000.
    public func tenants(matching query: TenantListQuery) async throws -> [TenantID] {
        let candidates = try await onThreadPool {
            try self.tenantCandidates().filter { query.admits($0.tenant) }.sorted { $0.tenant < $1.tenant }
        }
        var page: [TenantID] = []
        let ordered = query.before == nil ? AnyCollection(candidates) : AnyCollection(candidates.reversed())
        for candidate in ordered where page.count < query.limit {
            if try await settledReady(candidate.path) { page.append(candidate.tenant) }
        }
        return query.before == nil ? page : page.reversed()
    }
}
