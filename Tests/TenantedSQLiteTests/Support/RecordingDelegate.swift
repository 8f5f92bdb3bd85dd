import TenantedTestSupport
import Synchronization
import Tenanted

/// A ``TenancyDelegate`` that writes down every event, for tests to read back.
final class RecordingDelegate: TenancyDelegate {
    enum Event: Equatable, Sendable {
        case created(TenantID)
        case destroyed(TenantID)
        case migrated(TenantID, [String])
        case opened(TenantID)
        case closed(TenantID, PoolCloseReason)
        case overflowed(openCount: Int, capacity: Int)
    }

    private let recorded = Mutex<[Event]>([])

    /// Every event so far, oldest first.
    var events: [Event] { recorded.withLock { $0 } }

    /// How many pools of `tenant` were opened.
    func opens(of tenant: TenantID) -> Int {
        events.filter { $0 == .opened(tenant) }.count
    }

    func tenantCreated(_ tenant: TenantID) { record(.created(tenant)) }
    func tenantDestroyed(_ tenant: TenantID) { record(.destroyed(tenant)) }
    func tenantMigrated(_ tenant: TenantID, migrations: [String]) { record(.migrated(tenant, migrations)) }
    func poolOpened(_ tenant: TenantID) { record(.opened(tenant)) }
    func poolClosed(_ tenant: TenantID, reason: PoolCloseReason) { record(.closed(tenant, reason)) }
    func poolsOverflowed(openCount: Int, capacity: Int) { record(.overflowed(openCount: openCount, capacity: capacity)) }

    private func record(_ event: Event) {
        recorded.withLock { $0.append(event) }
    }
}
