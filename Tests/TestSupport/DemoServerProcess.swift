import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `tenanted-demo serve` as a real child process on a loopback port, the way a deployment runs it:
/// several of these and `tenanted-demo tenants …` share one storage root or catalog.
package final class DemoServerProcess: @unchecked Sendable {
    // @unchecked: `process` is only started in `start` and only signalled and waited for in `stop`,
    // which the owning test calls once, after every request.
    private let process: Process
    private let output: FileHandle
    /// The server's standard output and error.
    package let logPath: String
    package let port: Int
    /// The catalog server's URL when the server runs a PostgreSQL store (for a stall's report).
    let postgresURL: String?

    private init(process: Process, output: FileHandle, logPath: String, port: Int, postgresURL: String?) {
        self.process = process
        self.output = output
        self.logPath = logPath
        self.port = port
        self.postgresURL = postgresURL
    }

    /// Starts the server over `storage` with `environment` added, and returns once `/health` answers.
    package static func start(storage: String, environment extra: [String: String] = [:], demo: Demo = .vapor) async throws -> DemoServerProcess {
        var lastFailure = "not started"
        // A port found free can be taken before the server binds it: try another.
        for _ in 0..<5 {
            let port = try freePort()
            let process = DemoProcess(storage: storage, demo: demo).process(
                ["serve", "--hostname", "127.0.0.1", "--port", "\(port)", "--no-seed"], environment: extra
            )
            let log = FileManager.default.temporaryDirectory.appendingPathComponent("\(demo)-\(UUID().uuidString).log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            let output = try FileHandle(forWritingTo: log)
            process.standardOutput = output
            process.standardError = output
            process.standardInput = FileHandle.nullDevice
            try process.run()
            let postgresURL = (extra["TENANTED_STORE"] ?? "").hasPrefix("postgres")
                ? extra["TENANTED_POSTGRES_URL"] ?? ProcessInfo.processInfo.environment["TENANTED_POSTGRES_URL"] : nil
            let server = DemoServerProcess(process: process, output: output, logPath: log.path, port: port, postgresURL: postgresURL)
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline, process.isRunning {
                if let health = try? await server.request("GET", "/health", host: "localhost"), health.status == 200 {
                    return server
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            lastFailure = (try? String(contentsOf: log, encoding: .utf8)) ?? "no output"
            _ = await server.stop()
        }
        throw RawHTTP.Failure(description: "\(demo) serve did not start: \(lastFailure.suffix(2000))")
    }

    /// Sends one request; `json` goes with `Content-Type: application/json`, `body` with none.
    /// A request that fails says what the server logged. One that got no answer at all (the
    /// client's 30 s passed) first makes the server print every thread's backtrace (SIGABRT: Swift's
    /// runtime prints them before the process ends), so a hang shows where each thread stood.
    package func request(_ method: String, _ path: String, host: String, json: String? = nil, body: String? = nil) async throws -> RawHTTPResponse {
        do {
            return try await RawHTTP.send(
                port: port, method: method, path: path, host: host,
                headers: json == nil ? [] : [("Content-Type", "application/json")], body: json ?? body
            )
        } catch let failure as RawHTTP.Failure where process.isRunning {
            var length = 3_000
            var activity = ""
            if failure.description.hasPrefix("no HTTP response") {
                if let url = postgresURL { activity = "; PostgreSQL's busy backends then:\n\(await PostgresActivity.snapshot(url: url))\n" }
                await abortForBacktraces()
                length = 40_000
            }
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            throw RawHTTP.Failure(description: "\(failure.description) to \(method) \(path) (Host: \(host))\(activity); the server's log ends: \(log.suffix(length))")
        }
    }

    /// Sends SIGABRT and waits up to 60 s for the backtraces to be written and the process to end.
    private func abortForBacktraces() async {
        let process = self.process
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                kill(process.processIdentifier, SIGABRT)
                let deadline = ContinuousClock.now + .seconds(60)
                while process.isRunning, ContinuousClock.now < deadline { usleep(50_000) }
                continuation.resume()
            }
        }
    }

    /// Writes a tenant file through the demo's `PUT /files/:name`; returns the status.
    package func putFile(_ name: String, _ text: String, to tenant: String) async throws -> Int {
        try await RawHTTP.send(
            port: port, method: "PUT", path: "/files/\(name)", host: "\(tenant).localhost",
            headers: [("Content-Type", "application/octet-stream")], body: text
        ).status
    }

    /// A tenant file's text through `GET /files/:name`, or `nil` when the answer is not 200.
    package func file(_ name: String, of tenant: String) async throws -> String? {
        let response = try await request("GET", "/files/\(name)", host: "\(tenant).localhost")
        return response.status == 200 ? response.body : nil
    }

    /// The titles of a tenant's notes, or `nil` with the status when the answer is not 200.
    package func titles(of tenant: String) async throws -> (status: Int, titles: [String]) {
        let response = try await request("GET", "/notes", host: "\(tenant).localhost")
        let titles = (response.json as? [[String: Any]])?.compactMap { $0["title"] as? String } ?? []
        return (response.status, titles.sorted())
    }

    /// Posts a note; returns the status.
    package func post(_ title: String, to tenant: String) async throws -> Int {
        try await request("POST", "/notes", host: "\(tenant).localhost", json: #"{"title": "\#(title)", "body": "b"}"#).status
    }

    /// Sends SIGTERM and waits up to 20 seconds; returns how long the process took to exit, or `nil`
    /// when it had to be killed or had already died (its log is printed then).
    @discardableResult
    package func stop() async -> Duration? {
        let process = self.process, output = self.output, logPath = self.logPath
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                let clock = ContinuousClock()
                let started = clock.now
                guard process.isRunning else {
                    let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
                    print("tenanted-demo serve had exited (status \(process.terminationStatus)) before SIGTERM: \(log.suffix(4000))")
                    try? output.close()
                    continuation.resume(returning: nil)
                    return
                }
                kill(process.processIdentifier, SIGTERM)
                while process.isRunning, clock.now - started < .seconds(20) { usleep(10_000) }
                var took: Duration? = clock.now - started
                if process.isRunning {
                    kill(process.processIdentifier, SIGKILL)
                    took = nil
                }
                process.waitUntilExit()
                try? output.close()
                if took != nil { try? FileManager.default.removeItem(atPath: logPath) }
                continuation.resume(returning: took)
            }
        }
    }

    /// A TCP port on 127.0.0.1 that nothing listens on right now.
    package static func freeLoopbackPort() throws -> Int { try freePort() }

    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawHTTP.Failure(description: "socket failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw RawHTTP.Failure(description: "bind failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw RawHTTP.Failure(description: "getsockname failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
