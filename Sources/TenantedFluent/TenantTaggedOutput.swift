package import FluentKit
package import Tenanted

/// A row together with the tenant it was read from: what ``TenantOriginProperty`` reads.
///
/// Every tenant database of this module wraps its rows in it; `schema(_:)` keeps the tag, so joined
/// and eager-loaded models are tagged too.
package struct TenantTaggedOutput: DatabaseOutput {
    package let base: any DatabaseOutput
    package let tenant: TenantID

    package init(base: any DatabaseOutput, tenant: TenantID) {
        self.base = base
        self.tenant = tenant
    }

    package var description: String { "\(base) (tenant \(tenant))" }

    package func schema(_ schema: String) -> any DatabaseOutput {
        TenantTaggedOutput(base: base.schema(schema), tenant: tenant)
    }

    package func contains(_ key: FieldKey) -> Bool { base.contains(key) }

    package func decodeNil(_ key: FieldKey) throws -> Bool { try base.decodeNil(key) }

    package func decode<T: Decodable>(_ key: FieldKey, as type: T.Type) throws -> T { try base.decode(key, as: type) }
}
