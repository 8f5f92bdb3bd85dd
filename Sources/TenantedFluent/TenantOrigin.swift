public import FluentKit
import NIOCore
import Synchronization
public import Tenanted

extension Fields {
    /// The tenant a model was read from or saved to; see ``TenantOriginProperty``.
    public typealias TenantOrigin = TenantOriginProperty<Self>
}

/// Records which tenant a model instance belongs to, and stops it from being saved to another.
///
/// Declare it on any model of the tenant schema; it has no column:
///
/// ```swift
/// final class Note: Model, @unchecked Sendable {
///     static let schema = "notes"
///     @ID(key: .id) var id: UUID?
///     @Field(key: "title") var title: String
///     @TenantOrigin var tenant: TenantID?
///     init() {}
/// }
/// ```
///
/// - A model loaded through a tenant's database (any query, eager loads and joins included) gets
///   that tenant; a new model gets it when it is created.
/// - Saving, updating, deleting or restoring a model whose tenant differs from the database's throws
///   ``Tenanted/TenantedError/Code/wrongTenant``, as activerecord-tenanted does; a model with no
///   tenant yet can be saved anywhere.
/// - It encodes as the tenant's name (so a JSON response says where a row came from) and is never
///   decoded: a client cannot claim a tenant.
///
/// Why a property wrapper: Fluent builds models from rows through their property wrappers, so this
/// is the one place that sees every row of every query, without a base class or a protocol
/// requirement on your models.
@propertyWrapper
public final class TenantOriginProperty<Model: Fields>: @unchecked Sendable {
    private let storage = Mutex<TenantID?>(nil)

    /// Creates the property; its value is set by Tenanted.
    ///
    /// The first instance of a model type registers the type's record guard
    /// (``TenantRecordGuards``), so every tenant database guards the type from then on.
    public init() {
        TenantRecordGuards.register(Model.self)
    }

    /// The tenant the model was read from or saved to; `nil` for a model not loaded or saved yet.
    public var wrappedValue: TenantID? {
        storage.withLock { $0 }
    }

    /// The property itself.
    public var projectedValue: TenantOriginProperty<Model> { self }
}

extension TenantOriginProperty: CustomStringConvertible {
    public var description: String { "@\(Model.self).TenantOrigin(\(wrappedValue.map { "\($0)" } ?? "nil"))" }
}

/// The type-erased origin, as the record guard finds it among a model's properties.
protocol AnyTenantOrigin: AnyObject, Sendable {
    var origin: TenantID? { get set }
}

extension TenantOriginProperty: AnyTenantOrigin {
    var origin: TenantID? {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }
}

extension TenantOriginProperty: AnyProperty {}

extension TenantOriginProperty: Property {
    public var value: TenantID? {
        get { origin }
        set { origin = newValue }
    }
}

extension TenantOriginProperty: AnyDatabaseProperty {
    public var keys: [FieldKey] { [] }

    public func input(to input: any DatabaseInput) {}

    public func output(from output: any DatabaseOutput) throws {
        if let tagged = output as? TenantTaggedOutput { origin = tagged.tenant }
    }
}

extension TenantOriginProperty: AnyCodableProperty {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(origin)
    }

    /// Ignored: the tenant of a model comes from the database, never from a request body.
    public func decode(from decoder: any Decoder) throws {}

    public var skipPropertyEncoding: Bool { false }
}

extension TenantedError {
    static func wrongTenant(record: TenantID, database: TenantID, model: any AnyModel) -> TenantedError {
        TenantedError(
            .wrongTenant,
            "a \(type(of: model)) of tenant '\(record)' cannot be written to tenant '\(database)'",
            tenant: database
        )
    }
}

/// Finds a model's `@TenantOrigin` property. Models without one are remembered per type, so saving
/// them costs a dictionary lookup instead of reflecting over every property on every write.
enum TenantOriginLookup {
    private static let typesWithout = Mutex<Set<ObjectIdentifier>>([])

    static func property(of model: any AnyModel) -> (any AnyTenantOrigin)? {
        let type = ObjectIdentifier(Swift.type(of: model))
        if typesWithout.withLock({ $0.contains(type) }) { return nil }
        guard let property = model.properties.lazy.compactMap({ $0 as? any AnyTenantOrigin }).first else {
            typesWithout.withLock { _ = $0.insert(type) }
            return nil
        }
        return property
    }
}
