public import Foundation

/// A value sent to or read from MariaDB.
public enum MariaDBValue: Sendable, Hashable, CustomStringConvertible {
    /// SQL NULL.
    case null
    /// A signed integer (TINYINT … BIGINT, YEAR).
    case int(Int64)
    /// An unsigned BIGINT above `Int64.max` (smaller unsigned values come as ``int(_:)``).
    case uint(UInt64)
    /// FLOAT or DOUBLE.
    case double(Double)
    /// DECIMAL, exactly as the server wrote it (e.g. `"12.50"`); see ``decimal``.
    case decimal(String)
    /// Character data (CHAR, VARCHAR, TEXT, ENUM, SET, JSON) as UTF-8.
    case text(String)
    /// Binary data (BINARY, VARBINARY, BLOB, BIT, GEOMETRY).
    case bytes([UInt8])
    /// DATE, DATETIME, TIMESTAMP or TIME.
    case time(MariaDBTime)

    /// Whether this is SQL NULL.
    public var isNull: Bool { self == .null }

    /// The value as an integer, when it is one or is text or a decimal that spells one exactly.
    public var int64: Int64? {
        switch self {
        case .int(let value): value
        case .uint(let value): Int64(exactly: value)
        case .double(let value): Int64(exactly: value)
        case .decimal(let text), .text(let text): Int64(text)
        default: nil
        }
    }

    /// The value as a double (integers, decimals and numeric text convert).
    public var double: Double? {
        switch self {
        case .int(let value): Double(value)
        case .uint(let value): Double(value)
        case .double(let value): value
        case .decimal(let text), .text(let text): Double(text)
        default: nil
        }
    }

    /// The value as a `Decimal` (decimals, integers and numeric text).
    public var decimal: Decimal? {
        switch self {
        case .int(let value): Decimal(value)
        case .uint(let value): Decimal(value)
        case .double(let value): Decimal(value)
        case .decimal(let text), .text(let text): Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))
        default: nil
        }
    }

    /// The value as text (text, decimals, and binary data that is valid UTF-8).
    public var string: String? {
        switch self {
        case .text(let text), .decimal(let text): text
        case .bytes(let bytes): String(validating: bytes, as: UTF8.self)
        default: nil
        }
    }

    /// The value's bytes (binary data, or text as UTF-8).
    public var bytes: [UInt8]? {
        switch self {
        case .bytes(let bytes): bytes
        case .text(let text): Array(text.utf8)
        default: nil
        }
    }

    /// A date or time as an instant, read in UTC (the time zone of Tenanted's sessions).
    public var date: Date? {
        if case .time(let time) = self { return time.date }
        return nil
    }

    public var description: String {
        switch self {
        case .null: "NULL"
        case .int(let value): "\(value)"
        case .uint(let value): "\(value)"
        case .double(let value): "\(value)"
        case .decimal(let text): text
        case .text: "<text>"
        case .bytes(let bytes): "<\(bytes.count) bytes>"
        case .time(let time): "\(time)"
        }
    }
}

/// A MariaDB DATE, DATETIME, TIMESTAMP or TIME value, field by field.
public struct MariaDBTime: Sendable, Hashable, CustomStringConvertible {
    /// Which of the types it is.
    public enum Kind: Sendable, Hashable {
        /// DATE: year, month and day.
        case date
        /// DATETIME or TIMESTAMP.
        case dateTime
        /// TIME: a duration of hours, minutes, seconds (hours may exceed 23; see `negative`).
        case time
    }

    public var kind: Kind
    public var year: Int
    public var month: Int
    public var day: Int
    public var hour: Int
    public var minute: Int
    public var second: Int
    public var microsecond: Int
    /// Only for ``Kind/time``: a negative duration.
    public var negative: Bool

    /// Creates a value.
    public init(kind: Kind, year: Int = 0, month: Int = 0, day: Int = 0, hour: Int = 0, minute: Int = 0, second: Int = 0, microsecond: Int = 0, negative: Bool = false) {
        self.kind = kind
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
        self.microsecond = microsecond
        self.negative = negative
    }

    private static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    /// The DATETIME of `date` in UTC, to the microsecond.
    public init(_ date: Date) {
        let seconds = date.timeIntervalSince1970
        let whole = seconds.rounded(.down)
        var micros = Int(((seconds - whole) * 1_000_000).rounded())
        var base = Date(timeIntervalSince1970: whole)
        if micros >= 1_000_000 {
            micros -= 1_000_000
            base += 1
        }
        let parts = Self.utc.dateComponents([.year, .month, .day, .hour, .minute, .second], from: base)
        self.init(
            kind: .dateTime, year: parts.year ?? 0, month: parts.month ?? 0, day: parts.day ?? 0,
            hour: parts.hour ?? 0, minute: parts.minute ?? 0, second: parts.second ?? 0, microsecond: micros
        )
    }

    /// The instant, read in UTC; `nil` for a TIME or a zero date (`0000-00-00`).
    public var date: Date? {
        guard kind != .time, year > 0, month > 0, day > 0 else { return nil }
        let parts = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        guard let whole = Self.utc.date(from: parts) else { return nil }
        return whole + Double(microsecond) / 1_000_000
    }

    public var description: String {
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        let fraction = microsecond == 0 ? "" : "." + pad(microsecond, 6)
        switch kind {
        case .date: return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
        case .dateTime: return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2)) \(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))\(fraction)"
        case .time: return "\(negative ? "-" : "")\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))\(fraction)"
        }
    }
}
