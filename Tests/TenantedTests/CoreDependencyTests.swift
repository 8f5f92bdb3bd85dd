import Foundation
import Testing

@Suite("The core module's dependency rule")
struct CoreDependencyTests {
    /// Modules the core must never import: web frameworks, ORMs, database drivers.
    static let forbidden = [
        "Vapor", "Fluent", "FluentKit", "FluentSQL", "Hummingbird", "SQLiteNIO", "SQLiteKit", "SQLKit",
        "PostgresNIO", "PostgresKit", "GRDB", "NIOPosix",
    ]

    @Test("Sources/Tenanted imports no web framework, ORM or driver")
    func coreImports() throws {
        let sources = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/Tenanted")
        let files = try #require(FileManager.default.enumerator(atPath: sources.path))
            .compactMap { $0 as? String }
            .filter { $0.hasSuffix(".swift") }
        #expect(files.count >= 5, "found the core's sources")
        for file in files {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            for line in text.split(separator: "\n") {
                let words = line.split(separator: " ").map(String.init)
                guard let index = words.firstIndex(of: "import"), index + 1 < words.count else { continue }
                let prefix = words[..<index]
                guard prefix.allSatisfy({ ["public", "package", "internal", "@preconcurrency", "@_exported"].contains($0) }) else {
                    continue
                }
                let module = words[index + 1].split(separator: ".").first.map(String.init) ?? ""
                #expect(!Self.forbidden.contains(module), "\(file) imports \(module)")
            }
        }
    }
}
