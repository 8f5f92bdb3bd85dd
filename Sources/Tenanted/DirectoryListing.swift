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

    /// The names in an open directory stream, without `.` and `..`.
    package static func names(of stream: OpaquePointer) -> [String] {
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
