import BenchmarkSupport
import Foundation

/// A server process the HTTP workload starts, waits for (`GET /health`), and stops (SIGTERM).
struct ServerProcess: Sendable {
    var executable: String
    var arguments: [String]
    var environment: [String: String]
    var port: Int

    /// Starts the server, waits until it answers, runs `body` with the server's process id, then
    /// stops the server and waits for it to exit, whether `body` throws or not.
    func running<Result>(_ body: (Int32) async throws -> Result) async throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let outcome: Swift.Result<Result, any Error>
        do {
            try await waitUntilHealthy(process)
            outcome = .success(try await body(process.processIdentifier))
        } catch {
            outcome = .failure(error)
        }
        if process.isRunning {
            await waitUntilIdle(process.processIdentifier)
            process.terminate()
            process.waitUntilExit()
        }
        return try outcome.get()
    }

    /// Waits, at most 5 s, until the server has used no CPU for two readings 100 ms apart. wrk has
    /// exited by then, but the last requests it sent may still be running in the server, and a
    /// Vapor app stopped by SIGTERM shuts Fluent's databases down under them: the untenanted
    /// server's `req.db` then traps (seen once in a full run).
    private func waitUntilIdle(_ pid: Int32) async {
        let deadline = ContinuousClock.now + .seconds(5)
        var last = try? cpuSeconds(of: pid)
        while ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(100))
            let now = try? cpuSeconds(of: pid)
            if now == nil || now == last { return }
            last = now
        }
    }

    private func waitUntilHealthy(_ process: Process) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            guard process.isRunning else {
                throw BenchmarkError("\(executable) exited with status \(process.terminationStatus) before answering")
            }
            if (try? curl(["-sf", "-o", "/dev/null", "http://127.0.0.1:\(port)/health"])) != nil { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw BenchmarkError("\(executable) did not answer on port \(port) within 60 s")
    }
}

/// The CPU time process `pid` has used so far, all its threads, user and system (`/proc/PID/stat`,
/// in clock ticks of 10 ms), in seconds.
func cpuSeconds(of pid: Int32) throws -> Double {
    let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
    // Fields after the command name, which is in parentheses and may hold spaces.
    guard let close = stat.lastIndex(of: ")") else { throw BenchmarkError("cannot read /proc/\(pid)/stat") }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    // fields[0] is the state (field 3); utime and stime are fields 14 and 15.
    guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else {
        throw BenchmarkError("cannot read the CPU times in /proc/\(pid)/stat")
    }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// The context switches (voluntary and involuntary) of every thread `pid` has now, from
/// `/proc/PID/task/*/status`: each is a thread going to sleep or being preempted, so the count per
/// request says how many times a request's work moved between threads.
func contextSwitches(of pid: Int32) throws -> Double {
    let tasks = "/proc/\(pid)/task"
    var total = 0.0
    for thread in try FileManager.default.contentsOfDirectory(atPath: tasks) {
        // A thread that ended between the listing and the read counts no more.
        guard let status = try? String(contentsOfFile: "\(tasks)/\(thread)/status", encoding: .utf8) else { continue }
        for line in status.split(separator: "\n") where line.hasPrefix("voluntary_ctxt_switches:") || line.hasPrefix("nonvoluntary_ctxt_switches:") {
            total += Double(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) ?? 0
        }
    }
    return total
}

/// The full path of `name` on `PATH`, or `nil`.
func executable(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
}

/// Runs curl with `arguments`; its standard output, or an error when it fails.
func curl(_ arguments: [String]) throws -> String {
    try capture(executable("curl") ?? "/usr/bin/curl", arguments)
}

/// Runs `executable` to its end and returns its standard output; throws when it exits non-zero.
func capture(_ executable: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw BenchmarkError("\(executable) \(arguments.joined(separator: " ")) exited with status \(process.terminationStatus)")
    }
    return String(decoding: data, as: UTF8.self)
}
