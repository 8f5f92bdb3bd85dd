public import ArgumentParser
import Foundation
public import Tenanted

/// How the `tenants` commands reach the app's tenancy: the app builds it from its configuration,
/// as its server would, lends it to `body`, and shuts it down afterwards.
///
/// ```swift
/// enum AppTenancy: TenancyProvider {
///     static func withTenancy(_ body: (Tenancy) async throws -> Void) async throws {
///         let tenancy = try Tenancy(store: try SQLiteStore(), migrator: schema)
///         try await withTeardown { try await body(tenancy) } teardown: { await tenancy.shutdown() }
///     }
/// }
/// ```
public protocol TenancyProvider {
    /// Builds the tenancy, runs `body` with it, and shuts it down, also when `body` throws.
    static func withTenancy(_ body: (Tenancy) async throws -> Void) async throws
}

/// The `tenants` command group for a swift-argument-parser command line, the convention of
/// Hummingbird apps: `list`, `create`, `destroy`, `migrate`, `rollback`, `status`, `move`.
///
/// ```swift
/// @main struct App: AsyncParsableCommand {
///     static let configuration = CommandConfiguration(
///         subcommands: [Serve.self, TenantsCommand<AppTenancy>.self], defaultSubcommand: Serve.self
///     )
/// }
/// ```
///
/// The subcommands, options, environment (`TENANT`), output and exit codes are TenantedVapor's: both
/// call the one implementation, ``Tenanted/TenantCommands``. Results go to standard output (with
/// `--json`, nothing but JSON), the progress bar and errors to standard error. A failed command
/// prints **one line**, `error: <code>: <message>`, and the process exits with status 1; so does a
/// usage error of a `tenants` subcommand when the app's entry point is
/// ``ArgumentParser/AsyncParsableCommand/mainReportingTenantsFailures(_:)``.
public struct TenantsCommand<Provider: TenancyProvider>: AsyncParsableCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "tenants",
            abstract: "Create, list, migrate, roll back, seed, move, back up, restore, clone, suspend, resume and destroy tenants.",
            subcommands: [
                List.self, Create.self, Destroy.self, Migrate.self, Rollback.self, Status.self, Move.self,
                Backup.self, Restore.self, Clone.self, Suspend.self, Resume.self, Seed.self,
            ]
        )
    }

    public init() {}

    /// Runs `body` with the shared command behaviours over the provider's tenancy; a failure (already
    /// reported on one line) ends the command with ``Tenanted/TenantsCommandFailed/exitStatus``.
    static func run(_ body: (TenantCommands) async throws -> Void) async throws {
        do {
            try await Provider.withTenancy { tenancy in try await body(TenantCommands(tenancy: tenancy)) }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            let failure = TenantsCommandFailed(reporting: error)
            if !failure.reported { FileHandle.standardError.write(Data("error: \(failure.description)\n".utf8)) }
            throw ExitCode(failure.exitStatus)
        }
    }

    // Each subcommand parses its options and calls the one shared implementation, TenantCommands.

    /// `tenants list [--json]`.
    public struct List: AsyncParsableCommand {
        public static var configuration: CommandConfiguration { .init(abstract: "Lists every tenant, sorted.") }
        @Flag(help: "Print a JSON array.") var json = false
        public init() {}
        public func run() async throws { try await TenantsCommand.run { try await $0.list(json: json) } }
    }

    /// `tenants create NAME [--if-not-exists]`.
    public struct Create: AsyncParsableCommand {
        public static var configuration: CommandConfiguration {
            .init(abstract: "Creates a tenant: its database, its migrations, then makes it visible.")
        }
        @Argument(help: "The new tenant's name: a-z, 0-9, '-' and '_'.") var name: String
        @Flag(name: .customLong("if-not-exists"), help: "An existing tenant is not an error.") var ifNotExists = false
        public init() {}
        public func run() async throws { try await TenantsCommand.run { try await $0.create(name, ifNotExists: ifNotExists) } }
    }

    /// `tenants destroy NAME`.
    public struct Destroy: AsyncParsableCommand {
        public static var configuration: CommandConfiguration { .init(abstract: "Destroys a tenant and everything in its database.") }
        @Argument(help: "The tenant to destroy, with all its data.") var name: String
        public init() {}
        public func run() async throws { try await TenantsCommand.run { try await $0.destroy(name) } }
    }

    /// `tenants move NAME --to SERVER [--json]`.
    public struct Move: AsyncParsableCommand {
        public static var configuration: CommandConfiguration {
            .init(abstract: "Moves a tenant to another server: copy, verify row counts, switch, delete the old copy.")
        }
        @Argument(help: "The tenant to move.") var name: String
        @Option(name: .customLong("to"), help: "The server to move it to (a name from the store's configuration).") var server: String?
        @Flag(help: "Print the report as JSON.") var json = false
        public init() {}
        public func run() async throws { try await TenantsCommand.run { try await $0.move(name, to: server, json: json) } }
    }

    /// The options of `migrate` and `rollback`.
    public struct MigrationOptions: ParsableArguments {
        @Option(help: "Only this tenant (default: the TENANT environment variable, else every tenant).") var tenant: String?
        @Option(help: "Tenants at a time (default 4).") var parallel: Int?
        @Flag(help: "Print a JSON report.") var json = false
        public init() {}
    }

    /// `tenants migrate [--tenant NAME] [--parallel N] [--json]`.
    public struct Migrate: AsyncParsableCommand {
        public static var configuration: CommandConfiguration { .init(abstract: "Applies pending migrations to one tenant or every tenant.") }
        @OptionGroup var options: MigrationOptions
        public init() {}
        public func run() async throws {
            try await TenantsCommand.run { try await $0.migrate(tenant: options.tenant, parallel: options.parallel, json: options.json) }
        }
    }

    /// `tenants rollback [--tenant NAME] [--parallel N] [--json]`.
    public struct Rollback: AsyncParsableCommand {
        public static var configuration: CommandConfiguration {
            .init(abstract: "Reverts the last batch of migrations of one tenant or every tenant.")
        }
        @OptionGroup var options: MigrationOptions
        public init() {}
        public func run() async throws {
            try await TenantsCommand.run { try await $0.rollback(tenant: options.tenant, parallel: options.parallel, json: options.json) }
        }
    }

    /// `tenants status [--tenant NAME] [--json]`.
    public struct Status: AsyncParsableCommand {
        public static var configuration: CommandConfiguration { .init(abstract: "Shows each tenant's applied and pending migrations.") }
        @Option(help: "Only this tenant (default: the TENANT environment variable, else every tenant).") var tenant: String?
        @Flag(help: "Print a JSON array.") var json = false
        public init() {}
        public func run() async throws { try await TenantsCommand.run { try await $0.status(tenant: tenant, json: json) } }
    }
}

extension AsyncParsableCommand {
    /// Like `main()`, but a usage error under `tenants` (a missing name, an unknown option or
    /// subcommand) ends as a failed `tenants` command does, as in TenantedVapor: one line,
    /// `error: <message>`, on standard error and exit status 1, instead of the usage text and 64.
    ///
    /// ```swift
    /// @main struct App: AsyncParsableCommand {
    ///     static func main() async { await mainReportingTenantsFailures() }
    /// }
    /// ```
    ///
    /// - Parameter arguments: the command line without the executable. Default: the process's.
    public static func mainReportingTenantsFailures(_ arguments: [String]? = nil) async {
        let arguments = arguments ?? Array(CommandLine.arguments.dropFirst())
        do {
            var command = try parseAsRoot(arguments)
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            if arguments.first == "tenants", !(error is ExitCode), exitCode(for: error) != .success {
                let line = message(for: error).split(whereSeparator: \.isNewline).joined(separator: " ")
                FileHandle.standardError.write(Data("error: \(line)\n".utf8))
                Foundation.exit(1)
            }
            exit(withError: error)
        }
    }
}
