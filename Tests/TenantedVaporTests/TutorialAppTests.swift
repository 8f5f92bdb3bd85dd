import Foundation
import TenantedTestSupport
import Testing

/// Issue 15: a newcomer's first hour. The README's Vapor tutorial, as a separate app shaped like
/// Vapor's template (Tests/Fixtures/TutorialApp: its own `@main` calling `app.execute()` the
/// template's way, the README's package and import lines, only the products the README names),
/// built by scripts/tutorial-app and run step by step as real processes over real SQLite files.
@Suite("README: the Vapor tutorial as a separate app")
struct TutorialAppTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixture = root.appendingPathComponent("Tests/Fixtures/TutorialApp")
    /// The fixture's files holding the README's blocks, in the README's order.
    static let mirrorFiles = ["Package.swift", "Sources/App/Note.swift", "Sources/App/configure.swift", "Sources/App/SignUp.swift"]

    @Test("every line of every Swift block of the README's tutorial is in the tutorial app, in order, imports and package lines included")
    func readmeMatchesTheApp() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let tutorial = DocumentMirror.section("## Five-minute tutorial: Tenanted in a Vapor app", of: readme)
        let blocks = DocumentMirror.swiftBlocks(in: tutorial)
        #expect(blocks.count == 4, "the tutorial has 4 Swift blocks; update Tests/Fixtures/TutorialApp when that changes")
        // The blocks that hold code show their imports, and only these three.
        for block in blocks.dropFirst().dropLast() {
            #expect(block.filter { $0.hasPrefix("import ") } == ["import Fluent", "import TenantedVapor", "import Vapor"], "\(block.first ?? "")")
        }
        let app = try Self.mirrorFiles.map { try String(contentsOf: Self.fixture.appendingPathComponent($0), encoding: .utf8) }.joined(separator: "\n")
        let missing = DocumentMirror.missingLines(of: tutorial, in: app, marker: "README")
        #expect(missing.isEmpty, "tutorial lines not in Tests/Fixtures/TutorialApp (in order): \(missing)")

        // Nothing more than the README shows: the same products, and no import beyond the README's
        // (and the template entry point's `import Logging`, which Vapor re-exports).
        let products = { (lines: [String]) in lines.filter { $0.hasPrefix(".product(") } }
        #expect(products(blocks.first ?? []).count == 3, "the README names Vapor, Fluent and TenantedVapor")
        let manifest = try String(contentsOf: Self.fixture.appendingPathComponent("Package.swift"), encoding: .utf8)
        #expect(products(manifest.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }) == products(blocks.first ?? []))
        let sources = Self.fixture.appendingPathComponent("Sources/App")
        for file in try FileManager.default.contentsOfDirectory(atPath: sources.path) {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            let imports = Set(text.split(separator: "\n").filter { $0.hasPrefix("import ") }.map(String.init))
            #expect(imports.isSubset(of: ["import Fluent", "import TenantedVapor", "import Vapor", "import Logging"]), "\(file): \(imports)")
        }
    }

    @Test("the tutorial's steps in a template-shaped app: create twice, add a migration, migrate, tenants migrate")
    func tutorialSteps() async throws {
        let built = try await ChildProcess.run(
            "/bin/bash", arguments: [Self.root.appendingPathComponent("scripts/tutorial-app").path], directory: Self.root.path
        )
        try #require(built.status == 0, "scripts/tutorial-app failed:\n\(built.stderr.suffix(4000))")
        let executable = try #require(built.stdout.split(separator: "\n").last.map(String.init))
        let directory = try TemporaryDirectory()
        let newMigration = ["TUTORIAL_NEW_MIGRATION": "1"]
        func app(_ arguments: [String], _ environment: [String: String] = [:]) async throws -> ChildProcess.Run {
            try await ChildProcess.run(executable, arguments: arguments, environment: environment, directory: directory.path)
        }

        // `swift run App tenants create acme`, twice: the second fails in one clear line, no crash.
        let created = try await app(["tenants", "create", "acme"])
        #expect(created.status == 0, "\(created.stdout)\(created.stderr)")
        #expect(created.stdout.contains("created acme"))
        #expect(directory.exists("storage/tenants/acme/main.sqlite3"))
        let again = try await app(["tenants", "create", "acme"])
        expectCleanFailure(again, line: "error: tenantExists: cannot create tenant 'acme': it already exists or is being created")
        let upper = try await app(["tenants", "create", "Acme"])
        expectCleanFailure(upper, containing: "badTenantName")
        let missing = try await app(["tenants", "create"])
        expectCleanFailure(missing, containing: "name")

        // The app serves the tenant.
        try await withServer(executable, in: directory) { _, port in
            let posted = try await RawHTTP.send(
                port: port, method: "POST", path: "/notes", host: "acme.example.com",
                headers: [("Content-Type", "application/json")], body: #"{"title": "hello"}"#
            )
            #expect(posted.status == 200, "\(posted.body)")
            #expect((posted.json as? [String: Any])?["tenant"] as? String == "acme")
            #expect(try await RawHTTP.send(port: port, path: "/notes", host: "example.com").status == 404)
        }

        // A new migration: requests get a short 503, and the log says which migration and what to run.
        try await withServer(executable, in: directory, environment: newMigration) { server, port in
            let stale = try await RawHTTP.send(port: port, path: "/notes", host: "acme.example.com")
            #expect(stale.status == 503)
            #expect(!stale.body.contains("CreateTag") && !stale.body.contains("acme"), "the client body leaks detail: \(stale.body)")
            let line = try await server.waitForOutput(matching: "(.*pendingMigrations.*)", timeout: .seconds(60))
            for word in ["acme", "CreateTag", "`tenants migrate`"] {
                #expect(line.contains(word), "the log line lacks \(word): \(line)")
            }
        }

        // Vapor's own `migrate`, out of habit: not a silent no-op.
        let migrate = try await app(["migrate", "--yes"], newMigration)
        #expect(migrate.status == 0, "\(migrate.stdout)\(migrate.stderr)")
        #expect(migrate.stderr.contains("`tenants migrate`"), "\(migrate.stdout)\(migrate.stderr)")
        #expect(try await app(["tenants", "status"], newMigration).stdout.contains("1 pending: App.CreateTag"))
        // The same migration put on app.migrations by mistake: `migrate` fails in one line and says where it belongs.
        let misplaced = try await app(["migrate", "--yes"], ["TUTORIAL_MISPLACED_MIGRATION": "1"])
        #expect(misplaced.status == 1 && !misplaced.signalled, "\(misplaced.stdout)\(misplaced.stderr)")
        #expect(misplaced.stderr.hasPrefix("error: noTenant: "), "\(misplaced.stderr)")
        #expect(misplaced.stderr.contains("TenantMigrations set and are applied with `tenants migrate`"), "\(misplaced.stderr)")
        #expect(!(misplaced.stdout + misplaced.stderr).contains("Fatal error"), "\(misplaced.stdout)\(misplaced.stderr)")

        // `tenants migrate` brings acme up to date, and the requests work again.
        let tenantsMigrate = try await app(["tenants", "migrate"], newMigration)
        #expect(tenantsMigrate.status == 0, "\(tenantsMigrate.stdout)\(tenantsMigrate.stderr)")
        #expect(tenantsMigrate.stdout.contains("migrated acme: App.CreateTag"), "\(tenantsMigrate.stdout)")
        try await withServer(executable, in: directory, environment: newMigration) { _, port in
            let notes = try await RawHTTP.send(port: port, path: "/notes", host: "acme.example.com")
            #expect(notes.status == 200)
            #expect((notes.json as? [[String: Any]])?.map { $0["title"] as? String } == ["hello"])
        }
    }

    /// A failed command: exit status 1 by `exit`, not a signal; exactly one line on standard error;
    /// no "Fatal error", no backtrace, the error not repeated on standard output.
    func expectCleanFailure(_ run: ChildProcess.Run, line expected: String? = nil, containing word: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        let lines = run.stderr.split(separator: "\n").map(String.init)
        let all = run.stdout + run.stderr
        #expect(run.status == 1 && !run.signalled, "status \(run.status): \(all)", sourceLocation: sourceLocation)
        #expect(lines.count == 1, "standard error: \(run.stderr)", sourceLocation: sourceLocation)
        #expect(lines.first?.hasPrefix("error: ") == true, "standard error: \(run.stderr)", sourceLocation: sourceLocation)
        if let expected { #expect(lines.first == expected, sourceLocation: sourceLocation) }
        if let word { #expect(lines.first?.contains(word) == true, "standard error: \(run.stderr)", sourceLocation: sourceLocation) }
        for crash in ["Fatal error", "Backtrace", "backtrace", "Crash"] {
            #expect(!all.contains(crash), "\(crash): \(all)", sourceLocation: sourceLocation)
        }
        #expect(run.stdout.isEmpty, "standard output: \(run.stdout)", sourceLocation: sourceLocation)
    }

    /// Runs `App serve` on a port the system chooses, waits for "Server started", runs `body`, stops it.
    func withServer(
        _ executable: String,
        in directory: TemporaryDirectory,
        environment: [String: String] = [:],
        _ body: (ChildProcess, Int) async throws -> Void
    ) async throws {
        let server = try ChildProcess.start(executable, arguments: ["serve", "--hostname", "127.0.0.1", "--port", "0"], environment: environment, directory: directory.path)
        do {
            let port = try #require(Int(try await server.waitForOutput(matching: #"Server started on http://127\.0\.0\.1:([0-9]+)"#)))
            try await body(server, port)
        } catch {
            await server.stop()
            throw error
        }
        let status = await server.stop()
        #expect(status == 0, "serve ended with \(status):\n\(server.output)")
    }
}
