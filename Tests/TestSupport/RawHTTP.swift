import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A deliberately dumb HTTP/1.1 client over a plain TCP socket, so tests can send any `Host` header
/// (NUL bytes, 300 characters, `..`) to the real server exactly as written.
package struct RawHTTPResponse {
    package let status: Int
    package let body: String
    /// The header lines, as sent.
    package var head: String = ""

    /// The value of the first header named `name` (case-insensitive), or `nil`.
    package func header(_ name: String) -> String? {
        for line in head.split(separator: "\r\n").dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == name.lowercased() {
                return parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    package var json: Any? { try? JSONSerialization.jsonObject(with: Data(body.utf8)) }
}

package enum RawHTTP {
    package struct Failure: Error, CustomStringConvertible {
        package let description: String
        package init(description: String) { self.description = description }
    }

    /// Sends one request with `Connection: close` and reads the whole response, on a Dispatch thread:
    /// blocking socket calls on Swift's cooperative pool (two threads here) would starve the server
    /// under test.
    package static func send(
        port: Int,
        method: String = "GET",
        path: String,
        host: [UInt8],
        headers: [(String, String)] = [],
        body: String? = nil
    ) async throws -> RawHTTPResponse {
        StallWatch.start()
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result {
                    try sendBlocking(port: port, method: method, path: path, host: host, headers: headers, body: body)
                })
            }
        }
    }

    private static func sendBlocking(
        port: Int,
        method: String = "GET",
        path: String,
        host: [UInt8],
        headers: [(String, String)] = [],
        body: String? = nil
    ) throws -> RawHTTPResponse {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(errno)") }
        defer { close(fd) }
        // Never hang a test on a server that does not answer: give up reading after 30 s.
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure(description: "connect: \(errno)") }
        var request: [UInt8] = Array("\(method) \(path) HTTP/1.1\r\nHost: ".utf8) + host + Array("\r\n".utf8)
        var allHeaders = headers + [("Connection", "close")]
        if let body { allHeaders += [("Content-Length", "\(body.utf8.count)")] }
        for (name, value) in allHeaders { request += Array("\(name): \(value)\r\n".utf8) }
        request += Array("\r\n".utf8)
        if let body { request += Array(body.utf8) }
        var sent = 0
        while sent < request.count {
            let written = request[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written > 0 else { throw Failure(description: "write: \(errno)") }
            sent += written
        }
        let clock = ContinuousClock()
        let started = clock.now
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            response += buffer[0..<count]
            // A server that keeps the connection open despite `Connection: close` (chromedriver
            // does) has answered once its Content-Length is in.
            if isComplete(response) { break }
        }
        let text = String(decoding: response, as: UTF8.self)
        guard let statusLine = text.split(separator: "\r\n", maxSplits: 1).first,
              let code = statusLine.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else {
            // A connection closed at once is a server that refused; one silent for the whole timeout
            // is a server that hangs: when that server is this process's own (an in-process test
            // server), only a blocked thread explains it, so show where every thread stands.
            let waited = clock.now - started
            var description = "no HTTP response (\(response.count) bytes in \(waited.formatted(.units(allowed: [.seconds], fractionalPart: .show(length: 1)))))"
            if waited >= .seconds(25), isInProcess(port: port) {
                description += "; this process's threads then: \(SelfBacktrace.takeOnce())"
            }
            throw Failure(description: description)
        }
        let separator = text.range(of: "\r\n\r\n")
        let body = separator.map { String(text[$0.upperBound...]) } ?? ""
        let head = separator.map { String(text[..<$0.lowerBound]) } ?? text
        return RawHTTPResponse(status: code, body: body, head: head)
    }

    /// Whether the socket listening on `port` is one of this process's (`/proc/net/tcp` names its
    /// inode; `/proc/self/fd` holds it or not).
    private static func isInProcess(port: Int) -> Bool {
        let wanted = String(format: "%04X", port)
        var inodes: Set<String> = []
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let text = try? String(contentsOfFile: table, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ")
                guard fields.count > 9, fields[1].hasSuffix(":" + wanted), fields[3] == "0A" else { continue }
                inodes.insert(String(fields[9]))
            }
        }
        guard !inodes.isEmpty, let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return false }
        return entries.contains { entry in
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + entry) else { return false }
            return inodes.contains { target == "socket:[\($0)]" }
        }
    }

    /// Whether `response` holds a whole head and as many body bytes as its `Content-Length` says.
    private static func isComplete(_ response: [UInt8]) -> Bool {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard response.count >= 4, let end = (0...(response.count - 4)).first(where: { response[$0..<$0 + 4].elementsEqual(separator) }) else {
            return false
        }
        let head = String(decoding: response[..<end], as: UTF8.self).lowercased()
        guard let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
            let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
        else { return false }
        return response.count - (end + 4) >= length
    }

    package static func send(port: Int, method: String = "GET", path: String, host: String, headers: [(String, String)] = [], body: String? = nil) async throws -> RawHTTPResponse {
        try await send(port: port, method: method, path: path, host: Array(host.utf8), headers: headers, body: body)
    }
}
