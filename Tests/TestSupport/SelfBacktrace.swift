import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Every thread's backtrace of this test process, taken with `gdb` (when installed): for the report
/// of a request to an in-process server that got no answer, which only a blocked thread explains
/// (both threads of Swift's cooperative pool, or an event loop, stuck in a blocking call). Taken
/// once per process, and only with `TENANTED_TEST_THREAD_DUMPS=1`; later calls say so.
package enum SelfBacktrace {
    private static let taken = Locked(false)

    /// Blocks the calling thread (up to two minutes): call it from a Dispatch thread.
    package static func takeOnce() -> String {
        guard taken.withLock({ (value: inout Bool) -> Bool in
            defer { value = true }
            return !value
        }) else { return ThreadStates.summary() + " (backtraces: see the first stall of this process)" }
        // Opt-in, for a developer chasing a stall: attaching a debugger stops the test process for
        // seconds and interrupts its blocking reads (EINTR), which Foundation's FileHandle turns into a
        // crash of the whole run (seen once). Never set in CI.
        guard ProcessInfo.processInfo.environment["TENANTED_TEST_THREAD_DUMPS"] == "1" else {
            return ThreadStates.summary() + " (set TENANTED_TEST_THREAD_DUMPS=1 to have gdb print the threads' backtraces here)"
        }
        guard let gdb = ["/usr/bin/gdb", "/usr/local/bin/gdb"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
            return "(no gdb to print the threads' backtraces with)"
        }
        // gdb stops this process while it reads the threads: its output goes to a file, never to
        // a pipe this (stopped) process would have to drain, and `timeout` bounds it from outside.
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("tenanted-threads-\(getpid()).txt").path
        guard FileManager.default.createFile(atPath: output, contents: nil), let file = FileHandle(forWritingAtPath: output) else {
            return "(cannot write the threads' backtraces to \(output))"
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = ["-s", "KILL", "120", gdb, "-p", "\(getpid())", "-batch", "-nx", "-ex", "set pagination off", "-ex", "thread apply all bt 16"]
        process.standardOutput = file
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
            process.waitUntilExit()
            try? file.close()
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            return "(also in \(output)) " + idleThreadsLeftOut(text)
        } catch {
            try? file.close()
            return "(gdb failed: \(error))"
        }
    }

    /// `gdb`'s output without the event loops waiting in `epoll_wait` (idle).
    static func idleThreadsLeftOut(_ output: String) -> String {
        let blocks = output.components(separatedBy: "\nThread ").dropFirst()
        let kept = blocks.filter { !$0.split(separator: "\n").prefix(3).joined().contains("epoll_wait") }
        return "\(kept.count) threads (\(blocks.count - kept.count) event loops idle in epoll_wait left out):\nThread "
            + kept.joined(separator: "\nThread ")
    }
}
