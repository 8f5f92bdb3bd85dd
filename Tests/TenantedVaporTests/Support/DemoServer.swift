import Foundation
import Logging
import Tenanted
@testable import TenantedDemo
import TenantedTestSupport
import TenantedVapor
import Testing
import Vapor

/// The demo app, configured as `tenanted-demo serve` configures it, listening on a loopback port
/// chosen by the system, over a temporary storage root.
final class DemoServer: Sendable {
    let directory: TemporaryDirectory
    let app: Application
    let port: Int

    var storage: String { directory.appending("storage") }

    /// Starts the demo; `environment` is read as `tenanted-demo serve` reads its environment
    /// (for example `TENANTED_MAX_POOLS`).
    static func start(
        seed: Bool = false,
        environment: [String: String] = [:],
        configure extra: @Sendable (Application) throws -> Void = { _ in }
    ) async throws -> DemoServer {
        let directory = try TemporaryDirectory()
        let app = try await Application.make(.testing)
        do {
            var arguments = ["tenanted-demo", "serve"]
            var options = try DemoOptions.extract(from: &arguments, environment: environment)
            options.storage = directory.appending("storage")
            options.seed = seed
            app.logger = .silent
            try await TenantedDemo.configure(app, options)
            try extra(app)
            app.http.server.configuration.hostname = "127.0.0.1"
            app.http.server.configuration.port = 0
            try app.server.start()
            guard let port = app.http.server.shared.localAddress?.port else {
                throw RawHTTP.Failure(description: "the server has no local address")
            }
            return DemoServer(directory: directory, app: app, port: port)
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
    }

    private init(directory: TemporaryDirectory, app: Application, port: Int) {
        self.directory = directory
        self.app = app
        self.port = port
    }

    var tenancy: Tenancy { app.tenanted.tenancy! }

    func request(_ path: String, host: String) async throws -> RawHTTPResponse {
        try await request("GET", path, host: host)
    }

    func request(_ method: String, _ path: String, host: String, json: String? = nil) async throws -> RawHTTPResponse {
        try await RawHTTP.send(
            port: port, method: method, path: path, host: host,
            headers: json == nil ? [] : [("Content-Type", "application/json")], body: json
        )
    }

    /// Sends `body` as-is (`application/octet-stream`), as `PUT /files/:name` takes it.
    func request(_ method: String, _ path: String, host: String, body: String) async throws -> RawHTTPResponse {
        try await RawHTTP.send(port: port, method: method, path: path, host: host, headers: [("Content-Type", "application/octet-stream")], body: body)
    }

    func stop() async {
        await app.server.shutdown()
        try? await app.asyncShutdown()
    }
}

/// Runs `body` with a started demo server and always stops it.
func withDemoServer(
    environment: [String: String] = [:],
    configure extra: @Sendable (Application) throws -> Void = { _ in },
    _ body: (DemoServer) async throws -> Void
) async throws {
    let server = try await DemoServer.start(environment: environment, configure: extra)
    do {
        for name in ["acme", "globex"] { try await server.tenancy.createTenant(TenantID(name), ifNotExists: false) }
        try await body(server)
    } catch {
        await server.stop()
        throw error
    }
    await server.stop()
}
