import Dispatch
import Foundation
import TenantedTestSupport
import Testing

/// The test suite's stall report (``ThreadStates``), which CI prints when an in-process server
/// stops answering: it must name a thread's blocking call, or it explains nothing.
@Suite("Test support: the threads' states")
struct ThreadStatesTests {
    @Test(
        "a thread sleeping in a system call is reported with the call; the reader itself is running",
        .enabled(if: FileManager.default.fileExists(atPath: "/proc/self/task"), "needs Linux's /proc")
    )
    func aSleepingThreadIsNamedWithItsCall() async throws {
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            Thread.current.name = "stall-probe"
            usleep(3_000_000)
            done.signal()
        }
        var summary = ""
        for _ in 0..<100 {
            summary = ThreadStates.summary()
            if summary.contains("stall-probe sleeping in") { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(summary.contains("stall-probe sleeping in nanosleep") || summary.contains("stall-probe sleeping in clock_nanosleep"), "\(summary)")
        #expect(summary.contains(" running"), "\(summary)")
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { done.wait(); continuation.resume() }
        }
    }
}
