import Dispatch
package import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The two demo executables: one interface (command line, environment, HTTP, output, exit codes) on
/// two web frameworks. The end-to-end suites run against both.
package enum Demo: String, CaseIterable, Sendable, CustomStringConvertible {
    /// `tenanted-demo`, on Vapor and Fluent.
    case vapor = "tenanted-demo"
    /// `tenanted-hummingbird-demo`, on Hummingbird with plain SQL.
    case hummingbird = "tenanted-hummingbird-demo"

    /// The built executable in the package's `.build/debug`.
    package var executable: URL {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/\(rawValue)")
    }

    /// Whether ``executable`` exists (`swift build` or `scripts/test` builds both).
    package var isBuilt: Bool { FileManager.default.isExecutableFile(atPath: executable.path) }

    package var description: String { rawValue }
}

/// A built demo executable (``Demo``), run as a child process over one storage directory.
///
/// Everything blocking (starting, reading its output, waiting for it) runs on a Dispatch thread:
/// waiting for a process on Swift's cooperative pool would starve the servers other tests run meanwhile.
package struct DemoProcess: Sendable {
    package struct Run {
        package let status: Int32
        package let stdout: String
        package let stderr: String
        /// Whether the process died of the SIGKILL that ``DemoProcess/run(_:environment:killAfter:)`` sent.
        package let killed: Bool
    }

    /// `tenanted-demo`'s executable.
    package static var executable: URL { Demo.vapor.executable }

    /// Whether `tenanted-demo` is built.
    package static var isBuilt: Bool { Demo.vapor.isBuilt }

    /// `TENANTED_STORAGE` of every run.
    package let storage: String
    /// Which executable runs.
    package let demo: Demo

    /// The demo `demo` (default: `tenanted-demo`) over `storage`.
    package init(storage: String, demo: Demo = .vapor) {
        self.storage = storage
        self.demo = demo
    }

    /// Runs the demo with `arguments`; with `killAfter`, sends it SIGKILL after that long if it still runs.
    package func run(_ arguments: [String], environment extra: [String: String] = [:], killAfter: Duration? = nil) async throws -> Run {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try runBlocking(arguments, environment: extra, killAfter: killAfter) })
            }
        }
    }

    /// A process of the demo with `arguments`, over ``storage``, quiet (`LOG_LEVEL=warning`), with no
    /// inherited `TENANT`, and `extra` added to the environment; not started.
    package func process(_ arguments: [String], environment extra: [String: String]) -> Process {
        let process = Process()
        process.executableURL = demo.executable
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["TENANTED_STORAGE"] = storage
        // `TENANTED_DEMO_LOG_LEVEL=debug` (or `trace`) makes the demos say more, e.g. to see where a
        // request of a failing process test waited.
        environment["LOG_LEVEL"] = ProcessInfo.processInfo.environment["TENANTED_DEMO_LOG_LEVEL"] ?? "warning"
        environment.removeValue(forKey: "TENANT")
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        return process
    }

    private func runBlocking(_ arguments: [String], environment extra: [String: String], killAfter: Duration?) throws -> Run {
        let ended = try ChildProcess.runToEnd(process(arguments, environment: extra), killAfter: killAfter)
        return Run(status: ended.status, stdout: ended.stdout, stderr: ended.stderr, killed: ended.killed)
    }
}
