import FluentKit
import Synchronization

/// The record guards of every model type that declares `@TenantOrigin`, one per type
/// (``TenantRecordGuard``), in the order the types were first instantiated.
///
/// A type registers itself when its first instance is made (the property's initializer runs for
/// every model instance, so a model is always registered before it can be saved), and a tenant
/// database reads the list each time it runs a model event: a type first used after the database
/// was made is guarded too.
enum TenantRecordGuards {
    private static let registry = Mutex<(types: Set<ObjectIdentifier>, guards: [any AnyModelMiddleware])>(([], []))

    /// The guards, one per registered model type.
    static var all: [any AnyModelMiddleware] { registry.withLock { $0.guards } }

    /// Registers `type`'s guard once; a `Fields` type that is not a model (a group's fields) has no
    /// model events and needs none.
    static func register(_ type: any Fields.Type) {
        guard let model = type as? any FluentKit.Model.Type else { return }
        let id = ObjectIdentifier(model)
        registry.withLock { registry in
            guard registry.types.insert(id).inserted else { return }
            registry.guards.append(makeGuard(model))
        }
    }

    private static func makeGuard<M: FluentKit.Model>(_ type: M.Type) -> any AnyModelMiddleware {
        TenantRecordGuard<M>()
    }
}
