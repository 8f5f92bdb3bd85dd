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
        "TenantedMySQL": ["Tenanted", "MariaDBClient", "NIOCore", "NIOPosix"],
        // The MySQL store's driver: a client over MariaDB Connector/C (a system library); knows no Tenanted.
        "CMariaDB": [],
        "MariaDBClient": ["CMariaDB", "NIOPosix"],
        // Fluent: the core and FluentKit, no store, no web framework.
        "TenantedFluent": ["Tenanted", "FluentKit", "SQLKit", "NIOCore"],
        // A store's Fluent adapter: Fluent, that store and its driver.
        "TenantedFluentSQLite": ["Tenanted", "TenantedFluent", "TenantedSQLite", "FluentKit", "FluentSQL", "SQLKit", "SQLiteKit", "SQLiteNIO", "NIOCore"],
        "TenantedFluentPostgres": [
            "Tenanted", "TenantedFluent", "TenantedPostgres", "FluentKit", "FluentPostgresDriver", "PostgresKit", "SQLKit", "PostgresNIO",
            "NIOCore", "NIOPosix",
        ],
        "TenantedFluentMySQL": ["Tenanted", "TenantedFluent", "TenantedMySQL", "MariaDBClient", "FluentKit", "FluentSQL", "SQLKit", "NIOCore"],
        // The admin console: the core and swift-crypto's HMAC; no framework (each wing mounts it), no store.
        "TenantedAdmin": ["Tenanted", "Crypto"],
        // The Vapor wing: Fluent and Vapor (and, by its default trait, the SQLite store it re-exports), the
        // neutral admin console; no other wing.
        "TenantedVapor": ["Tenanted", "TenantedAdmin", "TenantedFluent", "TenantedSQLite", "TenantedFluentSQLite", "Vapor", "Fluent", "FluentKit", "NIOCore", "NIOWebSocket"],
        // The Hummingbird wing: Hummingbird, its websockets, swift-argument-parser and the neutral admin
        // console; no ORM, no store, no other wing.
        "TenantedHummingbird": ["Tenanted", "TenantedAdmin", "Hummingbird", "HummingbirdCore", "HummingbirdWebSocket", "NIOWebSocket", "HTTPTypes", "ArgumentParser"],
        // What the two demos share: the core and the stores, no framework and no ORM.
        "TenantedDemoSupport": ["Tenanted", "TenantedSQLite", "TenantedPostgres", "TenantedMySQL", "TenantedAdmin"],
        // The testing traits: the core and Swift Testing.
        "TenantedTesting": ["Tenanted", "Testing"],
        // The demo: the Vapor wing and every store.
        "TenantedDemo": [
            "Tenanted", "TenantedFluent", "TenantedSQLite", "TenantedFluentSQLite", "TenantedPostgres", "TenantedFluentPostgres",
            "TenantedMySQL", "TenantedFluentMySQL", "TenantedVapor", "TenantedDemoSupport", "TenantedAdmin", "Vapor", "Fluent", "FluentKit", "NIOCore",
        ],
        // The Hummingbird demo: the Hummingbird wing and the stores with their drivers; never the other demo.
        "TenantedHummingbirdDemo": [
            "Tenanted", "TenantedSQLite", "TenantedPostgres", "TenantedMySQL", "TenantedHummingbird", "TenantedDemoSupport", "TenantedAdmin",
            "Hummingbird", "HummingbirdCore", "HummingbirdWebSocket", "NIOCore", "NIOHTTP1", "ArgumentParser", "SQLiteNIO", "PostgresNIO",
            "MariaDBClient",
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

    /// The dependencies `Package.swift` declares for each target under `Sources/`: bare target names,
    /// `.target(name:)` and `.product(name:)` (every product here is named after its module).
    static func declaredDependencies() throws -> [String: Set<String>] {
        let manifest = try String(contentsOf: sources.deletingLastPathComponent().appendingPathComponent("Package.swift"), encoding: .utf8)
        let targets = Set(try FileManager.default.contentsOfDirectory(atPath: sources.path))
        var result: [String: Set<String>] = [:]
        // Each target block runs from its declaration (a `.target(name: "X",` followed by another
        // argument, not by `condition:` or `)` as a dependency on X is) to the next declaration.
        let declarations = manifest.matches(
            of: /\.(?:target|executableTarget|testTarget|systemLibrary)\(\s*name:\s*"([^"]+)"\s*,\s*(?:dependencies|path|pkgConfig|exclude|sources|resources|swiftSettings|linkerSettings|providers):/
        )
        for (index, declaration) in declarations.enumerated() {
            let name = declaration.output.1
            guard targets.contains(String(name)) else { continue }
            let end = index + 1 < declarations.count ? declarations[index + 1].range.lowerBound : manifest.endIndex
            let block = manifest[declaration.range.lowerBound..<end]
            guard let list = block.firstMatch(of: /dependencies:\s*\[((?:[^\[\]]|\[[^\]]*\])*)\]/)?.output.1 else {
                result[String(name)] = []
                continue
            }
            // Drop line comments and `package: "…"` (a package's name, not a dependency), then take every
            // quoted name: a bare target, `.target(name:)` or `.product(name:)`.
            let code = list.split(separator: "\n")
                .map { $0.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false).first ?? "" }
                .joined(separator: "\n")
                .replacing(/package:\s*"[^"]*"/, with: "")
                .replacing(/condition:\s*\.when\([^)]*\)/, with: "")
            let names = Set(code.matches(of: /"([A-Za-z_][A-Za-z0-9_]*)"/).map { String($0.output.1) })
            result[String(name)] = names
        }
        return result
    }

    @Test("Package.swift declares no dependency a target does not import")
    func everyDeclaredDependencyIsImported() throws {
        let imports = try Self.imports()
        let declared = try Self.declaredDependencies()
        #expect(Set(declared.keys) == Set(imports.keys), "found every target under Sources/ declared in Package.swift")
        #expect(declared["TenantedPostgres"]?.contains("PostgresNIO") == true, "the parser reads products")
        #expect(declared["TenantedFluentSQLite"]?.contains("TenantedSQLite") == true, "the parser reads bare target names")
        #expect(declared["Tenanted"]?.contains("swift-log") == false, "package names are not dependencies")
        for (target, dependencies) in declared.sorted(by: { $0.key < $1.key }) {
            let imported = imports[target] ?? [:]
            for dependency in dependencies.sorted() where imported[dependency] == nil {
                Issue.record("Package.swift: \(target) depends on \(dependency) but no file of it imports \(dependency); drop the dependency")
            }
        }
    }
}
