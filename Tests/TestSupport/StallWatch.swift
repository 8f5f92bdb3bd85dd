import Dispatch
import Foundation

/// Watches this test process's Swift concurrency threads: a detached task beats every 250 ms, and
/// when none has run for 10 s (two cooperative threads on this machine and in CI: two blocking
/// calls on them stop every task of the process, and in-process servers answer nothing), it prints
/// every thread's backtrace once (``SelfBacktrace``), so the run's log shows what blocked them.
/// Started by the first in-process HTTP request or guard; costs one timer.
package enum StallWatch {
    private static let state = Locked<(started: Bool, lastBeat: ContinuousClock.Instant, reported: Bool)>((false, .now, false))
    private static let queue = DispatchQueue(label: "tenanted.tests.stall-watch")
    static let limit: Duration = .seconds(10)

    package static func start() {
        let first = state.withLock { (value: inout (started: Bool, lastBeat: ContinuousClock.Instant, reported: Bool)) -> Bool in
            defer { value.started = true; value.lastBeat = .now }
            return !value.started
        }
        guard first else { return }
        tick()
    }

    private static func tick() {
        Task.detached { state.withLock { $0.lastBeat = .now } }
        let silent = state.withLock { (value: inout (started: Bool, lastBeat: ContinuousClock.Instant, reported: Bool)) -> Duration? in
            let since = ContinuousClock.now - value.lastBeat
            guard since > limit, !value.reported else { return nil }
            value.reported = true
            return since
        }
        if let silent {
            print("StallWatch: no task of this test process ran for \(silent) (its cooperative threads were blocked or starved); its threads now: \(SelfBacktrace.takeOnce())")
        }
        queue.asyncAfter(deadline: .now() + .milliseconds(250)) { tick() }
    }
}
