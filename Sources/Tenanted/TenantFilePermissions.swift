#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The modes of the files and folders Tenanted creates for tenants: databases and everything beside
/// them, templates, backups.
///
/// The default, ``ownerOnly``, is 0600 for files and 0700 for folders, whatever the process's
/// `umask`: a tenant's data is readable by the account that runs the app and nobody else.
/// ``groupReadable`` (0640 / 0750) lets a backup agent in the owner's group read them.
public struct TenantFilePermissions: Sendable, Hashable {
    /// The mode of files (for example `0o600`).
    public var file: UInt16
    /// The mode of folders (for example `0o700`).
    public var directory: UInt16

    /// Files 0600, folders 0700: the owner alone. The default everywhere.
    public static let ownerOnly = TenantFilePermissions(file: 0o600, directory: 0o700)
    /// Files 0640, folders 0750: the owner, and its group read-only.
    public static let groupReadable = TenantFilePermissions(file: 0o640, directory: 0o750)

    /// Modes of your own; only the permission bits (`0o777`) are used.
    public init(file: UInt16, directory: UInt16) {
        self.file = file & 0o777
        self.directory = directory & 0o777
    }
}

/// Small blocking file-system helpers shared by the stores and the backup format. Call them from a
/// thread pool, never from an event loop.
package enum TenantFileSystem {
    /// A failed system call: what was attempted and `errno`. Its description holds no path.
    package struct Failure: Error, CustomStringConvertible {
        package let operation: String
        package let code: Int32

        package init(_ operation: String, _ code: Int32 = errno) {
            self.operation = operation
            self.code = code
        }

        package var description: String {
            "\(operation) failed: \(String(cString: strerror(code))) (errno \(code))"
        }
    }

    /// Creates a new file (it must not exist) with `permissions`, whatever the umask, open for writing.
    package static func createNew(_ path: String, _ permissions: TenantFilePermissions) throws(Failure) -> Int32 {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(permissions.file))
        if descriptor < 0 { throw Failure("create a file") }
        if fchmod(descriptor, mode_t(permissions.file)) != 0 {
            let code = errno
            close(descriptor)
            unlink(path)
            throw Failure("set a file's mode", code)
        }
        return descriptor
    }

    /// Creates a new, empty file (it must not exist) with `permissions`, whatever the umask.
    package static func createEmpty(_ path: String, _ permissions: TenantFilePermissions) throws(Failure) {
        closeDescriptor(try createNew(path, permissions))
    }

    /// `close(2)`, for types whose own `close` method hides the C function.
    package static func closeDescriptor(_ descriptor: Int32) {
        close(descriptor)
    }

    /// Sets the mode of an existing file or folder (umask-proof).
    package static func setMode(_ path: String, _ mode: UInt16) {
        _ = chmod(path, mode_t(mode))
    }

    /// Writes all of `bytes`.
    package static func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) throws(Failure) {
        var offset = 0
        while offset < bytes.count {
            let written = systemWrite(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw Failure("write a file")
            }
            offset += written
        }
    }

    /// Copies `length` bytes (all, when `nil`) of the file at `source` from `offset` to `destination`'s
    /// current position.
    @discardableResult
    package static func copy(from source: String, offset: Int64 = 0, length: Int64? = nil, to destination: Int32) throws(Failure) -> Int64 {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        if input < 0 { throw Failure("open a file to copy") }
        defer { close(input) }
        if lseek(input, off_t(offset), SEEK_SET) < 0 { throw Failure("seek in a file to copy") }
        return try copy(fromDescriptor: input, length: length, to: destination)
    }

    /// Copies `length` bytes (all, when `nil`) from `input`'s current position to `destination`'s.
    @discardableResult
    package static func copy(fromDescriptor input: Int32, length: Int64? = nil, to destination: Int32) throws(Failure) -> Int64 {
        let size = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
        defer { buffer.deallocate() }
        var copied: Int64 = 0
        while length.map({ copied < $0 }) ?? true {
            let wanted = length.map { Int(min(Int64(size), $0 - copied)) } ?? size
            let count = read(input, buffer.baseAddress!, wanted)
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure("read a file to copy")
            }
            if count == 0 { break }
            try write(destination, UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            copied += Int64(count)
        }
        return copied
    }

    /// Copies the file at `source` into a new file at `destination` (it must not exist) with
    /// `permissions`, flushed to disk. On failure the descriptor is closed; the partial file is the
    /// caller's to remove.
    package static func copyToNewFile(from source: String, to destination: String, _ permissions: TenantFilePermissions) throws(Failure) {
        let descriptor = try createNew(destination, permissions)
        do {
            try copy(from: source, to: descriptor)
            try syncAndClose(descriptor)
        } catch {
            close(descriptor)
            throw error
        }
    }

    /// `fsync`, then `close`.
    package static func syncAndClose(_ descriptor: Int32) throws(Failure) {
        if fsync(descriptor) != 0 {
            let code = errno
            close(descriptor)
            throw Failure("flush a file to disk", code)
        }
        close(descriptor)
    }

    /// `fsync` of the file at `path`.
    package static func sync(_ path: String) throws(Failure) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 { throw Failure("open a file to flush") }
        try syncAndClose(descriptor)
    }

    /// Renames `source` over `destination` and flushes the folder, so the rename survives a crash.
    package static func renameDurably(_ source: String, _ destination: String) throws(Failure) {
        if rename(source, destination) != 0 { throw Failure("rename a file into place") }
        let folder = parent(of: destination)
        let descriptor = open(folder, O_RDONLY | O_CLOEXEC)
        if descriptor >= 0 {
            fsync(descriptor)
            close(descriptor)
        }
    }

    /// The folder of `path` (`.` for a bare name).
    package static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Size and kind of `path`: `nil` when absent.
    package static func status(_ path: String) -> (size: Int64, isRegular: Bool, isDirectory: Bool)? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        let kind = info.st_mode & S_IFMT
        return (Int64(info.st_size), kind == S_IFREG, kind == S_IFDIR)
    }
}

/// The C library's `write`, which ``TenantFileSystem/write(_:_:)`` shadows.
private func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.write(descriptor, bytes, count)
    #else
    Darwin.write(descriptor, bytes, count)
    #endif
}
