import Foundation
@testable import TenantedSQLite
import TenantedTestSupport
import Testing

/// The change counter itself (`StorageChanges`), at chosen times of its clock: the clock counts from
/// boot, so a machine up for less than the interval (a fresh CI machine) must map the counter on
/// first use like any other.
@Suite("SQLite: the change counter's clock")
struct StorageChangesCounterTests {
    static let hour: UInt64 = 3_600 * 1_000_000_000

    @Test("the first use maps the counter, however soon after boot", arguments: [UInt64(1), 60 * 1_000_000_000, Self.hour - 1, Self.hour + 1] as [UInt64])
    func firstUseMapsTheCounter(now: UInt64) throws {
        let directory = try TemporaryDirectory()
        let changes = StorageChanges(path: directory.appending(".tenanted-changes"), interval: .seconds(3_600), mode: 0o600)
        #expect(changes.generation(now: now) == 0, "a new counter reads 0")
        changes.bump()
        #expect(changes.generation(now: now + 1) == 1, "the bump is read through the mapping, without mapping again")
    }

    @Test("a counter that cannot be made is tried again once the interval has passed, not before")
    func unmappableIsRetriedAfterTheInterval() throws {
        let directory = try TemporaryDirectory()
        let changes = StorageChanges(path: directory.appending("storage/.tenanted-changes"), interval: .seconds(3_600), mode: 0o600)
        #expect(changes.generation(now: 5) == nil, "no folder yet: nothing to trust")
        try directory.makeDirectory("storage")
        #expect(changes.generation(now: 6) == nil, "within the interval the mapping is not tried again")
        #expect(changes.generation(now: 5 + Self.hour) == 0, "after it, the counter is made and mapped")
    }

    @Test("a zero interval never trusts the counter")
    func zeroIntervalTrustsNothing() throws {
        let directory = try TemporaryDirectory()
        let changes = StorageChanges(path: directory.appending(".tenanted-changes"), interval: .zero, mode: 0o600)
        #expect(changes.generation(now: 1) == nil)
        #expect(changes.generation(now: 2 * Self.hour) == nil)
    }
}
