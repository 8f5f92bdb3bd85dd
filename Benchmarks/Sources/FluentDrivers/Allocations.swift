import AllocationCounter
import BenchmarkSupport

/// Mallocs per call, counted by the process-wide replacement malloc of `AllocationCounter`: every
/// thread's allocations between the first and the last of `plan.allocationCalls` calls (after
/// `plan.pkSelectWarmup` untimed ones), over their number; Tenanted's side first, then the
/// baseline's. `nil`, with a note, where the counting malloc is not in effect (not glibc).
func allocationsPerCall(
    _ name: String,
    plan: Plan,
    tenanted: (Int) async throws -> Void,
    baseline: (Int) async throws -> Void
) async throws -> Figure? {
    guard allocation_counter_is_active() != 0 else {
        progress("· \(name): skipped, malloc is not the counting replacement on this platform\n")
        return nil
    }
    func count(_ body: (Int) async throws -> Void) async throws -> Double {
        for call in 0..<plan.pkSelectWarmup { try await body(call) }
        let before = allocation_counter_mallocs()
        for call in 0..<plan.allocationCalls { try await body(plan.pkSelectWarmup + call) }
        return Double(allocation_counter_mallocs() - before) / Double(plan.allocationCalls)
    }
    progress("· \(name)\n")
    let ours = try await count(tenanted)
    let theirs = try await count(baseline)
    return Figure(name: name, value: ours, unit: "allocs", baseline: theirs)
}
