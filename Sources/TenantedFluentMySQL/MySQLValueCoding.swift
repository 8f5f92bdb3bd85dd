import Foundation
import MariaDBClient
import SQLKit

/// Swift values as MariaDB values: numbers, text, `UUID` (16 bytes, as `BINARY(16)`), `Date`
/// (`DATETIME(6)` in UTC), `Data`, `Decimal`, `nil`; anything else through its single value, or as
/// JSON text.
enum MySQLValueEncoder {
    static func encode(_ value: any Encodable) throws -> MariaDBValue {
        switch value {
        case let text as String: return .text(text)
        case let flag as Bool: return .int(flag ? 1 : 0)
        case let number as Int: return .int(Int64(number))
        case let number as Int64: return .int(number)
        case let number as Int32: return .int(Int64(number))
        case let number as Int16: return .int(Int64(number))
        case let number as Int8: return .int(Int64(number))
        case let number as UInt: return number <= UInt(Int64.max) ? .int(Int64(number)) : .uint(UInt64(number))
        case let number as UInt64: return number <= UInt64(Int64.max) ? .int(Int64(number)) : .uint(number)
        case let number as UInt32: return .int(Int64(number))
        case let number as UInt16: return .int(Int64(number))
        case let number as UInt8: return .int(Int64(number))
        case let number as Double: return .double(number)
        case let number as Float: return .double(Double(number))
        case let number as Decimal: return .decimal(number.description)
        case let id as UUID: return .bytes(withUnsafeBytes(of: id.uuid) { Array($0) })
        case let date as Date: return .time(MariaDBTime(date))
        case let data as Data: return .bytes([UInt8](data))
        case let bytes as [UInt8]: return .bytes(bytes)
        default:
            return try single(value)
        }
    }

    /// Anything else through JSON: a scalar (an enum's raw value, an optional's `nil`, a wrapper's
    /// payload) as that scalar, an object or array as its JSON text.
    private static func single(_ value: any Encodable) throws -> MariaDBValue {
        let wrapped = try JSONEncoder().encode([AnyEncodable(value)])
        let text = String(decoding: wrapped, as: UTF8.self)
        let element = String(text.dropFirst().dropLast())
        switch element {
        case "null": return .null
        case "true": return .int(1)
        case "false": return .int(0)
        default: break
        }
        if element.hasPrefix("\"") {
            return .text(try JSONDecoder().decode([String].self, from: wrapped)[0])
        }
        if let number = Int64(element) { return .int(number) }
        if element.first.map({ $0 == "-" || $0.isNumber }) == true, let number = Double(element) { return .double(number) }
        return .text(element)
    }
}

private struct AnyEncodable: Encodable {
    let base: any Encodable

    init(_ base: any Encodable) { self.base = base }

    func encode(to encoder: any Encoder) throws { try base.encode(to: encoder) }
}

/// A MariaDB row as SQLKit's row: typed decoding of every column.
struct MySQLRow: SQLRow, CustomStringConvertible {
    let row: MariaDBRow

    var allColumns: [String] { row.columnNames }

    func contains(column: String) -> Bool { row[column] != nil }

    func decodeNil(column: String) throws -> Bool {
        guard let value = row[column] else { throw MySQLDecodingError.missingColumn(column) }
        return value.isNull
    }

    func decode<D: Decodable>(column: String, as type: D.Type) throws -> D {
        guard let value = row[column] else { throw MySQLDecodingError.missingColumn(column) }
        return try MySQLValueDecoder.decode(D.self, from: value, column: column)
    }

    var description: String { row.description }
}

/// Why a column could not be decoded; names the column and the types, never the value.
enum MySQLDecodingError: Error, CustomStringConvertible {
    case missingColumn(String)
    case mismatch(column: String, expected: String, found: String)

    var description: String {
        switch self {
        case .missingColumn(let column): "the result has no column '\(column)'"
        case .mismatch(let column, let expected, let found): "column '\(column)': cannot decode \(expected) from a MySQL \(found)"
        }
    }
}

enum MySQLValueDecoder {
    static func decode<T: Decodable>(_ type: T.Type, from value: MariaDBValue, column: String) throws -> T {
        func mismatch() -> MySQLDecodingError { .mismatch(column: column, expected: "\(T.self)", found: kind(of: value)) }
        // Each branch below runs only when `T` is the type it builds, so the cast never fails; if it
        // ever did, the caller gets the mismatch error, not a crash.
        func cast(_ decoded: Any) throws -> T {
            guard let typed = decoded as? T else { throw mismatch() }
            return typed
        }
        if T.self == String.self {
            guard let text = value.string else { throw mismatch() }
            return try cast(text)
        }
        if T.self == Int.self {
            guard let number = value.int64, let int = Int(exactly: number) else { throw mismatch() }
            return try cast(int)
        }
        if T.self == UUID.self {
            switch value {
            case .bytes(let bytes) where bytes.count == 16:
                return try cast(UUID(uuid: bytes.withUnsafeBytes { $0.loadUnaligned(as: uuid_t.self) }))
            case .text(let text):
                guard let id = UUID(uuidString: text) else { throw mismatch() }
                return try cast(id)
            default: throw mismatch()
            }
        }
        if T.self == Date.self {
            if let date = value.date { return try cast(date) }
            if let seconds = value.double, case .double = value { return try cast(Date(timeIntervalSince1970: seconds)) }
            throw mismatch()
        }
        if T.self == Data.self {
            guard let bytes = value.bytes else { throw mismatch() }
            return try cast(Data(bytes))
        }
        if T.self == Decimal.self {
            guard let decimal = value.decimal else { throw mismatch() }
            return try cast(decimal)
        }
        do {
            return try T(from: ValueDecoder(value: value, column: column))
        } catch is ValueDecoder.NeedsJSON {
            guard let bytes = value.bytes else { throw mismatch() }
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        }
    }

    static func kind(of value: MariaDBValue) -> String {
        switch value {
        case .null: "NULL"
        case .int, .uint: "integer"
        case .double: "double"
        case .decimal: "decimal"
        case .text: "text"
        case .bytes: "binary value"
        case .time: "date or time"
        }
    }
}

/// A decoder over one column value: single values, and JSON text for keyed or unkeyed containers.
private struct ValueDecoder: Decoder, SingleValueDecodingContainer {
    struct NeedsJSON: Error {}

    let value: MariaDBValue
    let column: String
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> { throw NeedsJSON() }
    func unkeyedContainer() throws -> any UnkeyedDecodingContainer { throw NeedsJSON() }
    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    private func mismatch(_ expected: String) -> MySQLDecodingError {
        .mismatch(column: column, expected: expected, found: MySQLValueDecoder.kind(of: value))
    }

    private func integer<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
        if case .uint(let number) = value, let exact = I(exactly: number) { return exact }
        guard let number = value.int64, let exact = I(exactly: number) else { throw mismatch("\(I.self)") }
        return exact
    }

    func decodeNil() -> Bool { value.isNull }
    func decode(_ type: Bool.Type) throws -> Bool {
        guard let number = value.int64 else { throw mismatch("Bool") }
        return number != 0
    }
    func decode(_ type: String.Type) throws -> String {
        guard let text = value.string else { throw mismatch("String") }
        return text
    }
    func decode(_ type: Double.Type) throws -> Double {
        guard let number = value.double else { throw mismatch("Double") }
        return number
    }
    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }
    func decode(_ type: Int.Type) throws -> Int { try integer(Int.self) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(Int8.self) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(Int16.self) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(Int32.self) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(Int64.self) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(UInt.self) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(UInt8.self) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(UInt16.self) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(UInt32.self) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(UInt64.self) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try MySQLValueDecoder.decode(T.self, from: value, column: column) }
}
