#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The names in a directory, read with `readdir` alone: an entry that disappears while the directory
/// is read (another process destroying a tenant) is simply not there, never an error.
package enum DirectoryListing {
    /// What reading a directory found.
    package enum Outcome {
        /// The names in it, without `.` and `..`.
        case names([String])
        /// No directory at that path.
        case missing
        /// It could not be opened or read; `errno`'s value.
        case failed(Int32)
    }

    /// The names in the directory at `path`.
    package static func read(_ path: String) -> Outcome {
        guard let stream = opendir(path) else { return errno == ENOENT ? .missing : .failed(errno) }
        defer { closedir(stream) }
        return .names(names(of: stream))
    }

    /// What a directory entry is, as far as `readdir`'s `d_type` tells.
    package enum Kind: Sendable {
        /// A regular file.
        case file
        /// A directory.
        case directory
        /// Anything else, or not told (a symbolic link, a file system without `d_type`): `stat` it.
        case unknown
    }

    /// The entries in the directory at `path`, each with its kind.
    package static func readEntries(_ path: String) -> (outcome: Outcome, kinds: [Kind]) {
        guard let stream = opendir(path) else { return (errno == ENOENT ? .missing : .failed(errno), []) }
        defer { closedir(stream) }
        var names: [String] = []
        var kinds: [Kind] = []
        while let entry = readdir(stream) {
            let name = Self.name(of: entry)
            if name == "." || name == ".." { continue }
            names.append(name)
            // The field alone: `entry.pointee` would copy the whole `dirent` (see `name(of:)`).
            switch Int32(entry.pointer(to: \.d_type)!.pointee) {
            case Int32(DT_REG): kinds.append(.file)
            case Int32(DT_DIR): kinds.append(.directory)
            default: kinds.append(.unknown)
            }
        }
        return (.names(names), kinds)
    }

    /// The names in an open directory stream, without `.` and `..`.
    package static func names(of stream: OpaquePointer) -> [String] {
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = Self.name(of: entry)
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The name of a directory entry, read through a pointer up to its NUL.
    ///
    /// Never `entry.pointee.d_name`: that copies the whole 256-byte field, but the kernel packs
    /// entries by their names' real lengths, so for the last entry of `readdir`'s buffer the copy
    /// reads past its end (a crash listing folders of hundreds of tenants each).
    private static func name(of entry: UnsafeMutablePointer<dirent>) -> String {
        let field = UnsafeRawPointer(entry.pointer(to: \.d_name)!)
        return String(cString: field.assumingMemoryBound(to: CChar.self))
    }
}
