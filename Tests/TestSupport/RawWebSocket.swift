import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A minimal websocket client over a plain TCP socket, so a test can send the upgrade with any
/// `Host` header (`acme.localhost` does not resolve here) and read the server's text frames.
package final class RawWebSocket: @unchecked Sendable {
    package struct Refused: Error, CustomStringConvertible {
        package let status: Int
        package var description: String { "the upgrade was refused with \(status)" }
    }

    private let fd: Int32
    private var pending: [UInt8] = []

    private init(fd: Int32, pending: [UInt8]) {
        self.fd = fd
        self.pending = pending
    }

    deinit { close(fd) }

    /// Opens `path` on the loopback `port` with `host`; throws ``Refused`` when the answer is not a 101.
    package static func connect(port: Int, path: String, host: String) async throws -> RawWebSocket {
        try await blocking {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw RawHTTP.Failure(description: "socket: \(errno)") }
            var timeout = timeval(tv_sec: 30, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else {
                close(fd)
                throw RawHTTP.Failure(description: "connect: \(errno)")
            }
            let request = "GET \(path) HTTP/1.1\r\nHost: \(host)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            let bytes = Array(request.utf8)
            _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            var received: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                if let end = received.firstRange(of: Array("\r\n\r\n".utf8)) {
                    let head = String(decoding: received[..<end.lowerBound], as: UTF8.self)
                    let status = head.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
                    guard status == 101 else {
                        close(fd)
                        throw Refused(status: status)
                    }
                    return RawWebSocket(fd: fd, pending: Array(received[end.upperBound...]))
                }
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                guard count > 0 else {
                    close(fd)
                    throw Refused(status: 0)
                }
                received += buffer[0..<count]
            }
        }
    }

    /// The next text frame's text, or `nil` when the server closed the socket (a close frame or EOF).
    package func nextText() async throws -> String? {
        try await Self.blocking { try self.readText() }
    }

    private func readText() throws -> String? {
        while true {
            guard let header = try take(2) else { return nil }
            let opcode = header[0] & 0x0F
            var length = Int(header[1] & 0x7F)
            if length == 126 {
                guard let extended = try take(2) else { return nil }
                length = Int(extended[0]) << 8 | Int(extended[1])
            } else if length == 127 {
                guard let extended = try take(8) else { return nil }
                length = extended.reduce(0) { $0 << 8 | Int($1) }
            }
            guard let payload = try take(length) else { return nil }
            switch opcode {
            case 0x1: return String(decoding: payload, as: UTF8.self)
            case 0x8:
                // Answer the close handshake (a masked, empty close frame), as a client must.
                let reply: [UInt8] = [0x88, 0x80, 0x01, 0x02, 0x03, 0x04]
                _ = reply.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                shutdown(fd, Int32(SHUT_WR))
                return nil
            default: continue   // pings and others
            }
        }
    }

    private func take(_ count: Int) throws -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while pending.count < count {
            let read = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if read == 0 { return nil }
            if read < 0 { throw RawHTTP.Failure(description: "read: \(errno)") }
            pending += buffer[0..<read]
        }
        defer { pending.removeFirst(count) }
        return Array(pending[0..<count])
    }

    private static func blocking<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
    }
}
