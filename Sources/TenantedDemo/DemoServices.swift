import Tenanted
import Vapor

/// What the demo's routes share besides the database: the tenants' files and the live-update
/// broadcaster (`GET /live`), each partitioned by tenant.
struct DemoServices: Sendable {
    let files: TenantFiles
    let broadcaster: TenantBroadcaster<String>
}

extension DemoServices {
    struct Key: StorageKey {
        typealias Value = DemoServices
    }
}
