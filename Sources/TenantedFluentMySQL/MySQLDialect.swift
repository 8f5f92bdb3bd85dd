public import SQLKit

/// SQLKit's dialect for MySQL 5.7+ / 8 and MariaDB 10.3+: backtick identifiers, `?` placeholders,
/// `AUTO_INCREMENT`, inline `ENUM`s, `ON DUPLICATE KEY UPDATE` upserts, no `RETURNING`.
public struct MySQLDialect: SQLDialect {
    /// Creates the dialect.
    public init() {}

    public var name: String { "mysql" }

    public var identifierQuote: any SQLExpression { SQLRaw("`") }

    public var literalStringQuote: any SQLExpression { SQLRaw("'") }

    public func bindPlaceholder(at position: Int) -> any SQLExpression { SQLRaw("?") }

    public func literalBoolean(_ value: Bool) -> any SQLExpression { SQLRaw(value ? "1" : "0") }

    public var literalDefault: any SQLExpression { SQLRaw("DEFAULT") }

    public var supportsAutoIncrement: Bool { true }

    public var autoIncrementClause: any SQLExpression { SQLRaw("AUTO_INCREMENT") }

    public var supportsIfExists: Bool { true }

    public var enumSyntax: SQLEnumSyntax { .inline }

    public var supportsDropBehavior: Bool { false }

    public var supportsReturning: Bool { false }

    public var triggerSyntax: SQLTriggerSyntax {
        .init(create: [.supportsBody, .conditionRequiresParentheses, .supportsOrder, .supportsDefiner], drop: [])
    }

    public var alterTableSyntax: SQLAlterTableSyntax {
        .init(alterColumnDefinitionClause: SQLRaw("MODIFY COLUMN"), alterColumnDefinitionTypeKeyword: nil, allowsBatch: true)
    }

    public func normalizeSQLConstraint(identifier: any SQLExpression) -> any SQLExpression {
        // MySQL limits constraint names to 64 characters: long ones become a stable digest.
        guard let name = (identifier as? SQLIdentifier)?.string, name.count > 64 else { return identifier }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return SQLIdentifier(String(name.prefix(40)) + "_" + String(hash, radix: 16))
    }

    public var upsertSyntax: SQLUpsertSyntax { .mysqlLike }

    public var unionFeatures: SQLUnionFeatures { [.union, .unionAll, .explicitDistinct, .parenthesizedSubqueries] }

    public var sharedSelectLockExpression: (any SQLExpression)? { SQLRaw("LOCK IN SHARE MODE") }

    public var exclusiveSelectLockExpression: (any SQLExpression)? { SQLRaw("FOR UPDATE") }

    public func nestedSubpathExpression(in column: any SQLExpression, for path: [String]) -> (any SQLExpression)? {
        guard !path.isEmpty else { return nil }
        return SQLFunction("json_extract", args: [column, SQLLiteral.string("$.\(path.joined(separator: "."))")])
    }
}
