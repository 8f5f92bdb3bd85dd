import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The built `tenanted-demo` executable, run as a child process over one storage directory.
///
/// Everything blocking (starting, reading its output, waiting for it) runs on a Dispatch thread:
/// waiting for a process on Swift's cooperative pool would starve the servers other tests run meanwhile.
struct DemoProcess: Sendable {
    struct Run {
        let status: Int32
        let stdout: String
        let stderr: String
        /// Whether the process died of the SIGKILL that ``DemoProcess/run(_:environment:killAfter:)`` sent.
        let killed: Bool
    }

    static let executable: URL = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/tenanted-demo")
    }()

    static var isBuilt: Bool { FileManager.default.isExecutableFile(atPath: executable.path) }

    /// `TENANTED_STORAGE` of every run.
    let storage: String

    /// Runs `tenanted-demo arguments`; with `killAfter`, sends it SIGKILL after that long if it still runs.
    func run(_ arguments: [String], environment extra: [String: String] = [:], killAfter: Duration? = nil) async throws -> Run {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try runBlocking(arguments, environment: extra, killAfter: killAfter) })
            }
        }
    }

    /// A process of the demo with `arguments`, over ``storage``, quiet (`LOG_LEVEL=warning`), with no
    /// inherited `TENANT`, and `extra` added to the environment; not started.
    func process(_ arguments: [String], environment extra: [String: String]) -> Process {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["TENANTED_STORAGE"] = storage
        environment["LOG_LEVEL"] = "warning"
        environment.removeValue(forKey: "TENANT")
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        return process
    }

    private func runBlocking(_ arguments: [String], environment extra: [String: String], killAfter: Duration?) throws -> Run {
        let process = process(arguments, environment: extra)
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        if let killAfter {
            let (seconds, attoseconds) = killAfter.components
            let nanoseconds = Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
            DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(nanoseconds)) {
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            }
        }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus,
            stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self),
            killed: process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL
        )
    }
}
