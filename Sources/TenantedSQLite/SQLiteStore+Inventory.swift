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
}
