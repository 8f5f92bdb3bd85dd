import TenantedDemoSupport
import Vapor

// The demo's files and live-update broadcaster (``DemoServices``, shared with
// `tenanted-hummingbird-demo`), kept in the application's storage.
extension DemoServices {
    struct Key: StorageKey {
        typealias Value = DemoServices
    }
}
