import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Every thread's backtrace of this test process, taken with `gdb` (when installed): for the report
/// of a request to an in-process server that got no answer, which only a blocked thread explains
/// (both threads of Swift's cooperative pool, or an event loop, stuck in a blocking call). Taken
/// once per process; later calls say so.
package enum SelfBacktrace {
    private static let taken = Locked(false)

    /// Blocks the calling thread (up to two minutes): call it from a Dispatch thread.
    package static func takeOnce() -> String {
        guard taken.withLock({ (value: inout Bool) -> Bool in
            defer { value = true }
            return !value
        }) else { return "(the threads' backtraces were printed at the first stall of this process)" }
        guard let gdb = ["/usr/bin/gdb", "/usr/local/bin/gdb"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
            return "(no gdb to print the threads' backtraces with)"
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: gdb)
        process.arguments = ["-p", "\(getpid())", "-batch", "-nx", "-ex", "set pagination off", "-ex", "thread apply all bt 16"]
        do {
            let ended = try ChildProcess.runToEnd(process, limit: .seconds(120))
            return idleThreadsLeftOut(ended.stdout)
        } catch {
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
