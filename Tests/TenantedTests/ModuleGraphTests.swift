import Foundation
import Testing

/// DESIGN §2 as a test: a neutral core, stores that know no ORM, Fluent that knows no store, wings
/// that know no other wing. Every target under `Sources/` is listed with the modules it may import;
/// an import of anything else — or a target missing from the list — fails here, so the module graph
/// cannot rot silently. (It replaces the two grep checks `scripts/test` used to run.)
@Suite("The module graph")
struct ModuleGraphTests {
    /// What every target may import: the standard library's neighbours and logging.
    static let everywhere: Set<String> = ["Foundation", "FoundationEssentials", "Dispatch", "Glibc", "Darwin", "Synchronization", "Logging"]

    /// What each target may import besides ``everywhere``.
    static let allowed: [String: Set<String>] = [
        // The core: no web framework, ORM or driver.
        "Tenanted": ["Metrics", "CoreMetrics", "DequeModule", "ServiceLifecycle"],
        // Stores: the core and their driver, no ORM.
        "TenantedSQLite": ["Tenanted", "SQLiteNIO", "NIOCore", "NIOPosix", "DequeModule"],
        "TenantedPostgres": ["Tenanted", "PostgresNIO", "NIOCore", "NIOPosix", "NIOSSL"],
        // Fluent: the core and FluentKit, no store, no web framework.
        "TenantedFluent": ["Tenanted", "FluentKit", "FluentSQL", "SQLKit", "NIOCore"],
        // A store's Fluent adapter: Fluent, that store and its driver.
        "TenantedFluentSQLite": ["Tenanted", "TenantedFluent", "TenantedSQLite", "FluentKit", "FluentSQL", "SQLKit", "SQLiteKit", "SQLiteNIO", "NIOCore"],
        "TenantedFluentPostgres": [
            "Tenanted", "TenantedFluent", "TenantedPostgres", "FluentKit", "FluentPostgresDriver", "PostgresKit", "SQLKit", "PostgresNIO",
            "NIOCore", "NIOPosix",
        ],
        // The Vapor wing: Fluent and Vapor (and, by its default trait, the SQLite store it re-exports); no other wing.
        // The MariaDB client: Connector/C under a thread pool. Knows no Tenanted.
        "CMariaDB": [],
        "MariaDBClient": ["CMariaDB", "NIOCore", "NIOPosix"],
        "TenantedMySQL": ["Tenanted", "MariaDBClient", "NIOCore", "NIOPosix"],
        "TenantedFluentMySQL": ["Tenanted", "TenantedFluent", "TenantedMySQL", "MariaDBClient", "FluentKit", "FluentSQL", "SQLKit", "NIOCore"],
        "TenantedVapor": ["Tenanted", "TenantedFluent", "TenantedSQLite", "TenantedFluentSQLite", "Vapor", "Fluent", "FluentKit", "NIOCore", "NIOWebSocket"],
        // The demo: the Vapor wing and every store.
        "TenantedDemo": [
            "Tenanted", "TenantedFluent", "TenantedSQLite", "TenantedFluentSQLite", "TenantedPostgres", "TenantedFluentPostgres",
            "TenantedMySQL", "TenantedFluentMySQL", "TenantedVapor", "Vapor", "Fluent", "FluentKit", "NIOCore",
        ],
    ]

    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources")

    /// Every module each target's Swift files import, with the first file that does.
    static func imports() throws -> [String: [String: String]] {
        let targets = try FileManager.default.contentsOfDirectory(atPath: sources.path).filter { !$0.hasPrefix(".") }
        // `import X`, `public import X`, `@_exported public import X`, `@preconcurrency import X`,
        // `import struct X.Y`: the module is the first name after `import` (and a declaration kind).
        let pattern = /^\s*(?:@[A-Za-z_]+(?:\([^)]*\))?\s+)*(?:(?:public|package|internal|fileprivate|private)\s+)?import\s+(?:(?:typealias|struct|class|enum|protocol|let|var|func)\s+)?([A-Za-z_][A-Za-z0-9_]*)/
        var result: [String: [String: String]] = [:]
        for target in targets {
            let directory = sources.appendingPathComponent(target)
            guard let files = FileManager.default.enumerator(atPath: directory.path) else { continue }
            var modules: [String: String] = [:]
            for case let file as String in files where file.hasSuffix(".swift") {
                let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
                for line in text.split(separator: "\n") {
                    if let match = try pattern.prefixMatch(in: line) {
                        modules[String(match.output.1), default: "\(target)/\(file)"] = modules[String(match.output.1)] ?? "\(target)/\(file)"
                    }
                }
            }
            result[target] = modules
        }
        return result
    }

    @Test("every target imports only what its place in the graph allows")
    func everyTargetImportsOnlyItsAllowlist() throws {
        let imports = try Self.imports()
        #expect(imports.count >= Self.allowed.count, "found the targets under \(Self.sources.path)")
        for (target, modules) in imports.sorted(by: { $0.key < $1.key }) {
            guard let allowed = Self.allowed[target] else {
                Issue.record("target \(target) has no entry in ModuleGraphTests.allowed: add one that follows DESIGN §2")
                continue
            }
            for (module, file) in modules.sorted(by: { $0.key < $1.key })
            where !Self.everywhere.contains(module) && !allowed.contains(module) && module != target {
                Issue.record("\(target) must not import \(module) (\(file)): DESIGN §2 allows it \(allowed.sorted().joined(separator: ", "))")
            }
        }
    }
}
