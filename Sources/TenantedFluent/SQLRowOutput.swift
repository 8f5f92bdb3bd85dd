package import FluentKit
package import SQLKit

/// An `SQLRow` as a Fluent output; `schema(_:)` prefixes column names the way FluentSQL's converter
/// aliases joined columns (`<schema>_<field>`).
package struct SQLRowOutput: DatabaseOutput {
    package let row: any SQLRow
    package let schema: String?

    package init(row: any SQLRow, schema: String?) {
        self.row = row
        self.schema = schema
    }

    package var description: String { String(describing: row) }

    package func schema(_ schema: String) -> any DatabaseOutput { SQLRowOutput(row: row, schema: schema) }

    package func contains(_ key: FieldKey) -> Bool { row.contains(column: column(key)) }

    package func decodeNil(_ key: FieldKey) throws -> Bool { try row.decodeNil(column: column(key)) }

    package func decode<T: Decodable>(_ key: FieldKey, as type: T.Type) throws -> T {
        try row.decode(column: column(key), as: T.self)
    }

    private func column(_ key: FieldKey) -> String {
        guard let schema else { return key.description }
        return FieldKey.prefix(.prefix(.string(schema), "_"), key).description
    }
}
