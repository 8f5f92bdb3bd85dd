import ArgumentParser
import Foundation
import Logging
import Tenanted
import TenantedHummingbird

/// `tenanted-hummingbird-demo`: `tenanted-demo`'s multi-tenant notes service on Hummingbird, with the
/// same interface (command line, environment, HTTP, output, exit codes).
///
/// - `tenanted-hummingbird-demo [serve] [--hostname H] [--port P] [--base-domain D] [--no-seed]`
/// - `tenanted-hummingbird-demo tenants list|create|destroy|migrate|rollback|status|move …`
@main
struct TenantedHummingbirdDemo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenanted-hummingbird-demo",
        abstract: "A multi-tenant notes service on Hummingbird.",
        subcommands: [Serve.self, TenantsCommand<DemoTenancy>.self],
        defaultSubcommand: Serve.self
    )

    static func main() async {
        // Logs on standard error, so command results (and --json) own standard output.
        let level = Logger.Level(rawValue: ProcessInfo.processInfo.environment["LOG_LEVEL"] ?? "") ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label, metadataProvider: .tenanted)
            handler.logLevel = level
            return handler
        }
        await mainReportingTenantsFailures()
    }

    /// Prints `error` after the program's name and ends with `status` (64: a bad configuration).
    static func fail(_ error: any Error, status: Int32) -> ExitCode {
        FileHandle.standardError.write(Data("tenanted-hummingbird-demo: \(error)\n".utf8))
        return ExitCode(status)
    }
}
