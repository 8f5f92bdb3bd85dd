import FluentKit
import SQLKit

/// An `SQLRow` as a Fluent output; `schema(_:)` prefixes column names the way FluentSQL's converter
/// aliases joined columns (`<schema>_<field>`).
struct SQLRowOutput: DatabaseOutput {
    let row: any SQLRow
    let schema: String?

    var description: String { String(describing: row) }

    func schema(_ schema: String) -> any DatabaseOutput { SQLRowOutput(row: row, schema: schema) }

    func contains(_ key: FieldKey) -> Bool { row.contains(column: column(key)) }

    func decodeNil(_ key: FieldKey) throws -> Bool { try row.decodeNil(column: column(key)) }

    func decode<T: Decodable>(_ key: FieldKey, as type: T.Type) throws -> T {
        try row.decode(column: column(key), as: T.self)
    }

    private func column(_ key: FieldKey) -> String {
        guard let schema else { return key.description }
        return FieldKey.prefix(.prefix(.string(schema), "_"), key).description
    }
}
