#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which file a path names right now: its device and inode.
///
/// A tenant's database that is destroyed and re-created (by this process or another) gets a new
/// inode, and the old one lives on only in the connections that still hold it open. Comparing the
/// identity a pool opened with the path's identity now is how a pool learns that it is stale: one
/// `stat`, about a microsecond, on every lease. An inode number cannot be reused while the pool's
/// writer connection keeps the old file open, so the comparison has no false match.
struct FileIdentity: Hashable, Sendable {
    let device: UInt64
    let inode: UInt64

    /// The identity of the regular file at `path`, or `nil` when there is none.
    static func of(_ path: String) -> FileIdentity? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    /// The identity of the file open on `descriptor`, or `nil` when `fstat` fails.
    static func of(descriptor: Int32) -> FileIdentity? {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return nil }
        return FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }
}
