#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// An unfinished atomic write of one tenant file (``TenantFiles/makeWriter(_:)``): the bytes go to a
/// hidden temporary file, which ``commit()`` syncs and renames over the name. Until then readers see
/// the previous file (or none); ``abort()`` — or dropping the writer — removes the temporary file.
public final class TenantFileWriter: Sendable {
    private struct State {
        var descriptor: Int32
        var directory: Int32
        var size = 0
        var finished = false
    }

    private let state: Mutex<State>
    private let temporary: String
    private let key: String

    init(directory: Int32, descriptor: Int32, temporary: String, key: String) {
        self.state = Mutex(State(descriptor: descriptor, directory: directory))
        self.temporary = temporary
        self.key = key
    }

    /// Bytes written so far.
    public var size: Int { state.withLock { $0.size } }

    /// Appends `bytes`.
    public func write(_ bytes: [UInt8]) async throws {
        let (descriptor, finished) = state.withLock { ($0.descriptor, $0.finished) }
        guard !finished else { throw TenantedError(.misuse, "write after the file was committed or aborted") }
        try await TenantFiles.blocking { () throws(TenantedError) in
            var offset = 0
            while offset < bytes.count {
                let written = bytes[offset...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
                if written < 0 {
                    if errno == EINTR { continue }
                    throw TenantFiles.failure("write a file", errno)
                }
                offset += written
            }
        }
        state.withLock { $0.size += bytes.count }
    }

    /// Syncs the bytes and renames the temporary file over the name: the file now has the new bytes.
    public func commit() async throws {
        let taken = state.withLock { state -> State? in
            guard !state.finished else { return nil }
            state.finished = true
            return state
        }
        guard let taken else { throw TenantedError(.misuse, "commit after the file was committed or aborted") }
        let temporary = self.temporary, key = self.key
        try await TenantFiles.blocking { () throws(TenantedError) in
            defer {
                close(taken.descriptor)
                close(taken.directory)
            }
            guard fsync(taken.descriptor) == 0 else {
                let code = errno
                unlinkat(taken.directory, temporary, 0)
                throw TenantFiles.failure("sync a file", code)
            }
            guard renameat(taken.directory, temporary, taken.directory, key) == 0 else {
                let code = errno
                unlinkat(taken.directory, temporary, 0)
                throw TenantFiles.failure("rename a file into place", code)
            }
            fsync(taken.directory)
        }
    }

    /// Drops the unfinished file; the name keeps its previous bytes (or stays absent).
    public func abort() async {
        finish()
    }

    private func finish() {
        let taken = state.withLock { state -> State? in
            guard !state.finished else { return nil }
            state.finished = true
            return state
        }
        guard let taken else { return }
        unlinkat(taken.directory, temporary, 0)
        close(taken.descriptor)
        close(taken.directory)
    }

    deinit { finish() }
}

/// The chunks of one tenant file, read from a descriptor opened without following links
/// (``TenantFiles/read(_:chunkSize:)``). The file is closed when iteration ends or the reader goes.
public final class TenantFileReader: AsyncSequence, Sendable {
    public typealias Element = [UInt8]

    private let descriptor: Mutex<Int32?>
    private let chunkSize: Int

    init(descriptor: Int32, chunkSize: Int) {
        self.descriptor = Mutex(descriptor)
        self.chunkSize = chunkSize
    }

    /// The file's size in bytes.
    public var size: Int {
        descriptor.withLock { descriptor in
            guard let descriptor else { return 0 }
            var info = stat()
            return fstat(descriptor, &info) == 0 ? Int(info.st_size) : 0
        }
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let reader: TenantFileReader

        public mutating func next() async throws -> [UInt8]? {
            try await reader.nextChunk()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(reader: self) }

    private func nextChunk() async throws -> [UInt8]? {
        guard let current = descriptor.withLock({ $0 }) else { return nil }
        let chunkSize = self.chunkSize
        let chunk = try await TenantFiles.blocking { () throws(TenantedError) -> [UInt8] in
            var buffer = [UInt8](repeating: 0, count: chunkSize)
            while true {
                let count = buffer.withUnsafeMutableBytes { Glibc.read(current, $0.baseAddress, chunkSize) }
                if count < 0 {
                    if errno == EINTR { continue }
                    throw TenantFiles.failure("read a file", errno)
                }
                buffer.removeLast(chunkSize - count)
                return buffer
            }
        }
        if chunk.isEmpty {
            closeFile()
            return nil
        }
        return chunk
    }

    private func closeFile() {
        if let descriptor = descriptor.withLock({ descriptor -> Int32? in
            defer { descriptor = nil }
            return descriptor
        }) {
            close(descriptor)
        }
    }

    deinit { closeFile() }
}
