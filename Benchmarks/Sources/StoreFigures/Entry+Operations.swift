import BenchmarkSupport
import Foundation
import SQLiteNIO
import Tenanted
import TenantedSQLite
#if canImport(Glibc)
import Glibc
#endif

/// The raw floor of a create from a template: copy the file to a temporary name, `fsync`, rename.
func copySyncRename(_ source: String, to destination: String) throws {
    let temporary = destination + ".tmp"
    let input = open(source, O_RDONLY | O_CLOEXEC)
    let output = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    guard input >= 0, output >= 0 else { throw BenchmarkError("copySyncRename: open failed") }
    defer { close(input) }
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
        if count <= 0 { break }
        _ = buffer.withUnsafeBytes { write(output, $0.baseAddress, count) }
    }
    fsync(output)
    close(output)
    guard rename(temporary, destination) == 0 else { throw BenchmarkError("copySyncRename: rename failed") }
}

extension Entry {
    /// `backup_<n>mb` and `restore_<n>mb`: one tenant filled to about `megabytes` MB, backed up once
    /// (`VACUUM INTO` + header + flush + link) and restored once under another name (extract,
    /// `quick_check`, migration check, flush, rename). Absolute times; the baseline of the backup is
    /// a plain `cp` of the database file (copy + fsync + rename).
    static func backupAndRestore(tenancy: Tenancy, directory: String, megabytes: Int) async throws -> [Figure] {
        let tenant = try TenantID("big")
        try await tenancy.createTenant(tenant)
        try await tenancy.withTenant(tenant) {
            let pool = try tenancy.currentPool(as: SQLitePool.self)
            try await pool.write { connection in
                _ = try await connection.query("CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB NOT NULL)")
                for _ in 0..<megabytes {
                    _ = try await connection.query("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 256) INSERT INTO blobs (data) SELECT randomblob(4096) FROM n")
                }
            }
        }
        let path = try tenancy.store(as: SQLiteStore.self).databasePath(for: tenant)
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let clock = ContinuousClock()
        let file = directory + "/big.backup"
        var started = clock.now
        try await tenancy.backup(tenant, to: file)
        let backup = clock.now - started
        started = clock.now
        try copySyncRename(path, to: directory + "/big-copy.sqlite3")
        let copy = clock.now - started
        started = clock.now
        try await tenancy.restore(try TenantID("big-restored"), from: file)
        let restore = clock.now - started
        func millis(_ duration: Duration) -> Double {
            Double(duration.components.seconds) * 1e3 + Double(duration.components.attoseconds) / 1e15
        }
        print("backup/restore of a \(size / 1_000_000) MB tenant: backup \(millis(backup)) ms, restore \(millis(restore)) ms, raw copy \(millis(copy)) ms")
        return [
            Figure(name: "backup_\(megabytes)mb", value: millis(backup), unit: "ms", baseline: millis(copy)),
            Figure(name: "restore_\(megabytes)mb", value: millis(restore), unit: "ms", baseline: millis(copy)),
        ]
    }
}
