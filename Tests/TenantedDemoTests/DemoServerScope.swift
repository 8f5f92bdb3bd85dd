import Foundation
import TenantedTestSupport
import Testing

/// The stores the demo suites run on: SQLite always, the servers' stores when their URLs are set.
enum DemoStore {
    static let postgresURL = ProcessInfo.processInfo.environment["TENANTED_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let mysqlURL = ProcessInfo.processInfo.environment["TENANTED_MYSQL_URL"].flatMap { $0.isEmpty ? nil : $0 }

    /// The environment of a demo on PostgreSQL layout `store` with a fresh prefix.
    static func postgres(_ store: String, url: String) -> [String: String] {
        ["TENANTED_STORE": store, "TENANTED_POSTGRES_URL": url, "TENANTED_POSTGRES_PREFIX": uniquePrefix()]
    }

    /// The environment of a demo on MySQL / MariaDB with a fresh prefix.
    static func mysql(url: String) -> [String: String] {
        ["TENANTED_STORE": "mysql", "TENANTED_MYSQL_URL": url, "TENANTED_MYSQL_PREFIX": uniquePrefix()]
    }

    /// `h` and eight hex digits: tenants of concurrent runs on one server never meet.
    static func uniquePrefix() -> String {
        "h" + UUID().uuidString.prefix(8).lowercased().filter(\.isHexDigit) + "_"
    }
}

/// A started `serve` of `demo` over a fresh storage (or a fresh server prefix), with `tenants`
/// created by `tenants create`; always stopped, and its server tenants destroyed.
func withDemoServer(
    _ demo: Demo, environment: [String: String] = [:], tenants: [String] = ["acme", "globex"],
    _ body: (DemoServerProcess, DemoProcess, TemporaryDirectory) async throws -> Void
) async throws {
    try #require(demo.isBuilt, "build \(demo) first (scripts/test does)")
    let directory = try TemporaryDirectory()
    let command = DemoProcess(storage: directory.appending("storage"), demo: demo)
    for name in tenants {
        let created = try await command.run(["tenants", "create", name], environment: environment)
        try #require(created.status == 0, "\(created.stderr)")
    }
    let server = try await DemoServerProcess.start(storage: directory.appending("storage"), environment: environment, demo: demo)
    do {
        try await body(server, command, directory)
    } catch {
        await server.stop()
        throw error
    }
    #expect(await server.stop() != nil, "SIGTERM stopped the server")
    if environment["TENANTED_STORE", default: "sqlite"] != "sqlite" {
        let listed = try await command.run(["tenants", "list"], environment: environment)
        for name in listed.stdout.split(whereSeparator: \.isWhitespace) {
            _ = try await command.run(["tenants", "destroy", String(name)], environment: environment)
        }
    }
}
