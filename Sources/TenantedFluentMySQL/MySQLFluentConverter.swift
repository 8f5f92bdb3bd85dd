import FluentKit
import FluentSQL
import SQLKit

/// Fluent data types as MySQL column types (as the stock MySQL driver maps them): UUIDs in
/// `BINARY(16)`, strings in `VARCHAR(255)` (indexable), dates with microseconds.
struct MySQLFluentConverter: SQLConverterDelegate {
    func customDataType(_ dataType: DatabaseSchema.DataType) -> (any SQLExpression)? {
        switch dataType {
        case .uuid: SQLRaw("BINARY(16)")
        case .string: SQLRaw("VARCHAR(255)")
        case .bool: SQLRaw("BOOL")
        case .datetime: SQLRaw("DATETIME(6)")
        case .time: SQLRaw("TIME(6)")
        case .data: SQLRaw("LONGBLOB")
        case .dictionary, .array: SQLRaw("JSON")
        case .int8: SQLRaw("TINYINT")
        case .uint8: SQLRaw("TINYINT UNSIGNED")
        case .int16: SQLRaw("SMALLINT")
        case .uint16: SQLRaw("SMALLINT UNSIGNED")
        case .uint32: SQLRaw("INT UNSIGNED")
        case .uint64: SQLRaw("BIGINT UNSIGNED")
        default: nil
        }
    }

    func nestedFieldExpression(_ column: String, _ path: [String]) -> any SQLExpression {
        SQLFunction("json_extract", args: [SQLIdentifier(column), SQLLiteral.string("$.\(path.joined(separator: "."))")])
    }
}
