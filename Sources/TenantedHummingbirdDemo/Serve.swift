import ArgumentParser
import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import Tenanted
import TenantedAdmin
import TenantedDemoSupport
import TenantedHummingbird

/// `serve [--hostname H] [--port P] [--base-domain D] [--no-seed]`, the default subcommand.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serves the notes API.")

    @Option(name: [.customShort("H"), .long], help: "The address to listen on.") var hostname = "127.0.0.1"
    @Option(name: [.customShort("p"), .long], help: "The port to listen on.") var port = 8080
    @Option(name: .customLong("base-domain"), help: "Tenants are <name>.<base-domain>.") var baseDomain = "localhost"
    @Flag(name: .customLong("no-seed"), help: "Do not create acme and globex on a first start.") var noSeed = false

    func run() async throws {
        let domain: String
        do {
            domain = try DemoEnvironment.validDomain(baseDomain)
        } catch {
            throw TenantedHummingbirdDemo.fail(error, status: 64)
        }
        let environment = try DemoTenancy.environment()
        let logger = Logger(label: "tenanted-hummingbird-demo")
        let services = try DemoServices(environment)
        let tenancy = try DemoTenancy.make(environment, services: services, logger: logger)
        do {
            if !noSeed, try await tenancy.tenants().isEmpty {
                for name in DemoEnvironment.seededTenants { try await tenancy.createTenant(TenantID(name)) }
                FileHandle.standardOutput.write(Data(DemoEnvironment.seededMessage(baseDomain: domain, port: "\(port)").utf8))
            }
            let listening = ListeningPort(port)
            let router = try NoteRoutes.router(tenancy: tenancy, baseDomain: domain, store: environment.store, services: services, port: listening)
            if let admin = environment.admin {
                // On the bare base domain only: the console answers 404 on a tenant's host.
                router.group()
                    .add(middleware: TenantMiddleware(tenancy: tenancy, resolver: try .subdomain(of: domain)))
                    .addAdminConsole(AdminConsole(tenancy: tenancy, configuration: admin, logger: logger))
            }
            let app = Application(
                router: router,
                server: .closingHTTP1WebSocketUpgrade(webSocketRouter: router),
                configuration: .init(address: .hostname(hostname, port: port), serverName: nil),
                // The tenancy runs in the app's ServiceGroup: on SIGTERM or SIGINT the server stops
                // first, then the tenancy closes every pool.
                services: [tenancy],
                onServerRunning: { channel in listening.set(channel.localAddress?.port) },
                logger: logger
            )
            try await app.runService()
        } catch let error as TenantedError {
            await tenancy.shutdown()
            throw TenantedHummingbirdDemo.fail(error, status: 1)
        }
        await tenancy.shutdown()
    }
}
