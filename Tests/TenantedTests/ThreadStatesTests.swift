import Dispatch
import Foundation
import TenantedTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The test suite's stall report (``ThreadStates``), which CI prints when an in-process server
/// stops answering: it must name a thread's blocking call, or it explains nothing.
@Suite("Test support: the threads' states")
struct ThreadStatesTests {
    @Test(
        "a thread blocked in a system call is reported with the call; the reader itself is running",
        .enabled(if: FileManager.default.fileExists(atPath: "/proc/self/task"), "needs Linux's /proc")
    )
    func aBlockedThreadIsNamedWithItsCall() async throws {
        // The probe blocks in `read` on a pipe until the test writes to it, however long a loaded
        // machine takes to look.
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        let (readEnd, writeEnd) = (ends[0], ends[1])
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            // Named through /proc directly: Foundation's `Thread.name` setter does nothing when
            // the new thread runs before its creator has recorded the thread's handle (a race a
            // loaded CI run lost), and Glibc's `pthread_setname_np` is not imported.
            try? "stall-probe".write(toFile: "/proc/thread-self/comm", atomically: false, encoding: .utf8)
            var byte: UInt8 = 0
            _ = read(readEnd, &byte, 1)
            done.signal()
        }
        var summary = ""
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            summary = ThreadStates.summary()
            if summary.contains("stall-probe sleeping in") { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)
        #expect(summary.contains("stall-probe sleeping in read"), "\(summary)")
        #expect(summary.contains(" running"), "\(summary)")
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { done.wait(); continuation.resume() }
        }
        close(readEnd)
        close(writeEnd)
    }
}
