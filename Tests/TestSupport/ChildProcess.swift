import Dispatch
package import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A program run as a child process: to completion (``run(_:arguments:environment:directory:)``), or
/// in the background with its output collected as it comes (``start(_:arguments:environment:directory:)``).
///
/// Every blocking call (waiting for the process, reading pipes) runs on a Dispatch thread, never on
/// Swift's cooperative pool, which a waiting process would starve.
package final class ChildProcess: Sendable {
    package struct Run {
        package let status: Int32
        package let stdout: String
        package let stderr: String
        /// Whether the process ended by a signal (a crash), not by `exit`.
        package let signalled: Bool
    }

    package struct Failure: Error, CustomStringConvertible {
        package let description: String
        package init(description: String) { self.description = description }
    }

    /// Runs `executable arguments` in `directory` and waits for it to end (at most ``runLimit``).
    package static func run(_ executable: String, arguments: [String], environment: [String: String] = [:], directory: String) async throws -> Run {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result {
                    let process = try makeProcess(executable, arguments, environment, directory)
                    let ended = try runToEnd(process)
                    return Run(status: ended.status, stdout: ended.stdout, stderr: ended.stderr, signalled: ended.signalled)
                })
            }
        }
    }

    /// How long a child run to completion may take before it counts as hung: a test waiting on it
    /// fails naming it, instead of the whole test run stalling.
    package static let runLimit: Duration = .seconds(300)

    /// What ``runToEnd(_:killAfter:limit:)`` saw.
    package struct Ended: Sendable {
        package let status: Int32
        package let stdout: String
        package let stderr: String
        /// Whether the process ended by a signal, not by `exit`.
        package let signalled: Bool
        /// Whether it died of the SIGKILL sent after `killAfter`.
        package let killed: Bool
    }

    /// Starts `process` with its standard output and error piped, drains both at once (a child
    /// filling one pipe cannot block on it), and waits for it to end; blocks the calling thread, so
    /// call it on a Dispatch thread. After `killAfter` it sends SIGKILL (a deliberate kill); after
    /// `limit` it sends SIGABRT (Swift's runtime prints the threads' backtraces) and, 10 s later,
    /// SIGKILL, then throws a ``Failure`` with what the process printed.
    package static func runToEnd(_ process: Process, killAfter: Duration? = nil, limit: Duration = runLimit) throws -> Ended {
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        if process.standardInput == nil { process.standardInput = FileHandle.nullDevice }
        try process.run()
        let pid = process.processIdentifier
        let finished = Locked(false)
        let killedOnPurpose = Locked(false)
        let hung = Locked(false)
        if let killAfter {
            DispatchQueue.global().asyncAfter(deadline: .now() + dispatchInterval(killAfter)) {
                finished.withLock { done in
                    guard !done else { return }
                    killedOnPurpose.withLock { $0 = true }
                    kill(pid, SIGKILL)
                }
            }
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + dispatchInterval(limit)) {
            finished.withLock { done in
                guard !done else { return }
                hung.withLock { $0 = true }
                kill(pid, SIGABRT)
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + 10) {
                finished.withLock { done in if !done { kill(pid, SIGKILL) } }
            }
        }
        let stderr = Locked(Data())
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) {
            let data = err.fileHandleForReading.readDataToEndOfFile()
            stderr.withLock { $0 = data }
        }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        finished.withLock { $0 = true }
        let ended = Ended(
            status: process.terminationStatus,
            stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr.value, as: UTF8.self),
            signalled: process.terminationReason == .uncaughtSignal,
            killed: killedOnPurpose.value && process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL
        )
        if hung.value {
            let command = ([process.executableURL?.lastPathComponent ?? "?"] + (process.arguments ?? [])).joined(separator: " ")
            throw Failure(description: "`\(command)` did not end within \(limit): aborted (status \(ended.status)); stdout:\n\(ended.stdout.suffix(4000))\nstderr:\n\(ended.stderr.suffix(60000))")
        }
        return ended
    }

    private static func dispatchInterval(_ duration: Duration) -> DispatchTimeInterval {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000))
    }

    /// Starts `executable arguments` in `directory` without waiting; stop it with ``stop()``.
    package static func start(_ executable: String, arguments: [String], environment: [String: String] = [:], directory: String) throws -> ChildProcess {
        let process = try makeProcess(executable, arguments, environment, directory)
        let child = ChildProcess(process)
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // A blocking read on a thread of its own per pipe, not `readabilityHandler`: a dispatch
        // source on a pipe whose descriptor is closed (and reused) while still registered crashes
        // libdispatch's event loop (seen: a bad pointer dereference in _dispatch_event_loop_drain).
        for pipe in [out, err] {
            let handle = pipe.fileHandleForReading
            Thread.detachNewThread {
                while true {
                    let data = handle.availableData
                    if data.isEmpty { return }
                    child.collected.withLock { $0.append(data) }
                }
            }
        }
        return child
    }

    private static func makeProcess(_ executable: String, _ arguments: [String], _ environment: [String: String], _ directory: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var merged = ProcessInfo.processInfo.environment
        merged.removeValue(forKey: "TENANT")
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        process.standardInput = FileHandle.nullDevice
        return process
    }

    private let process: Process
    /// Standard output and standard error, interleaved in arrival order.
    private let collected = Locked(Data())

    private init(_ process: Process) {
        self.process = process
    }

    /// What the process wrote so far, both streams.
    package var output: String { String(decoding: collected.value, as: UTF8.self) }

    /// Waits until `output` matches `pattern` (a regular expression) and returns its first capture
    /// group (or the whole match); fails when the process ends first or `timeout` passes.
    package func waitForOutput(matching pattern: String, timeout: Duration = .seconds(120)) async throws -> String {
        let expression = try NSRegularExpression(pattern: pattern)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let text = output
            if let match = expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) {
                let range = match.numberOfRanges > 1 ? match.range(at: 1) : match.range
                return String(text[Range(range, in: text)!])
            }
            if !process.isRunning {
                throw Failure(description: "the process ended (status \(process.terminationStatus)) before printing /\(pattern)/:\n\(output)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw Failure(description: "no /\(pattern)/ within \(timeout):\n\(output)")
    }

    /// Sends SIGINT (Vapor shuts down gracefully), waits up to 30 seconds, then SIGKILL; returns the status.
    @discardableResult
    package func stop() async -> Int32 {
        let process = self.process
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                if process.isRunning { kill(process.processIdentifier, SIGINT) }
                let deadline = Date().addingTimeInterval(30)
                while process.isRunning, Date() < deadline { usleep(20_000) }
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                process.waitUntilExit()
                continuation.resume(returning: process.terminationStatus)
            }
        }
    }
}
