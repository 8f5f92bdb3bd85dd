import Foundation
import Tenanted
public import Vapor

/// The `tenants` command group: `list`, `create`, `destroy`, `migrate`, `rollback`, `status`, `move`,
/// `backup`, `restore`, `clone`, `suspend`, `resume`.
///
/// ```swift
/// try app.tenanted.use(tenancy)
/// app.asyncCommands.use(TenantsCommand(), as: "tenants")
/// ```
///
/// Results go to standard output (with `--json`, nothing but JSON), progress and logs to standard
/// error. For the commands that act on one tenant, the `TENANT` environment variable names it when
/// `--tenant` is absent (like activerecord-tenanted's `ARTENANT`).
///
/// ## Failures
///
/// A failed command (`create` of an existing tenant, an invalid name, a missing argument, a
/// `migrate` where any tenant failed) prints **one line** on standard error,
/// `error: tenantExists: cannot create tenant 'acme': it already exists or is being created`,
/// shuts the application down and ends the process with status 1.
///
/// It does not throw, because in Vapor's standard `@main` template (`try await app.execute()`, then
/// `app.logger.report(error:)` and `throw error`) a thrown error is printed three times and the
/// rethrow reaches the top level: `Fatal error: Error raised at top level`, a backtrace, and
/// status 132. Pass `exitsOnFailure: false` to get the old behaviour, ``TenantsCommandFailed``
/// thrown after the line is printed, when you run the commands in process (in a test) or your own
/// entry point reports errors itself.
public struct TenantsCommand: AsyncCommandGroup {
    public let help = "Create, list, migrate, roll back, seed, move, back up, restore, clone, suspend, resume and destroy tenants."

    /// Whether a failure ends the process with status 1 (the default) instead of throwing.
    public let exitsOnFailure: Bool

    public var commands: [String: any AnyAsyncCommand] {
        [
            "list": ListTenants(),
            "create": CreateTenant(),
            "destroy": DestroyTenant(),
            "migrate": MigrateTenants(),
            "rollback": RollbackTenants(),
            "status": TenantStatus(),
            "move": MoveTenant(),
            "backup": BackupTenant(),
            "restore": RestoreTenant(),
            "clone": CloneTenant(),
            "suspend": SuspendTenant(),
            "resume": ResumeTenant(),
            "seed": SeedTenants(),
        ]
    }

    /// Creates the group.
    ///
    /// - Parameter exitsOnFailure: `true` (the default): a failed command prints one line on
    ///   standard error, shuts the application down and exits with status 1. `false`: it prints
    ///   the line and throws ``TenantsCommandFailed``.
    public init(exitsOnFailure: Bool = true) {
        self.exitsOnFailure = exitsOnFailure
    }

    /// Runs the subcommand the input names; on failure, reports it as ``exitsOnFailure`` says.
    public func run(using context: inout CommandContext) async throws {
        do {
            try await runSubcommand(using: &context)
        } catch {
            try await fail(with: error, context: context, exiting: exitsOnFailure)
        }
    }

    /// AsyncCommandGroup's own dispatch (which cannot be called from an override): the first
    /// argument names the subcommand; none prints the group's help.
    private func runSubcommand(using context: inout CommandContext) async throws {
        guard !context.input.arguments.isEmpty else {
            try outputHelp(using: &context)
            throw CommandError.missingCommand
        }
        let name = context.input.arguments.removeFirst()
        guard let command = commands[name] else {
            throw CommandError.unknownCommand(name, available: commands.keys.sorted())
        }
        context.input.executablePath.append(name)
        try await command.run(using: &context)
    }
}

/// Reports a failed command in one line on standard error (unless the command already did), then
/// shuts the application down and exits with status 1, or, when `exiting` is `false`, throws
/// ``TenantsCommandFailed``. `note` follows the error line.
func fail(with error: any Error, context: CommandContext, exiting: Bool, note: String? = nil) async throws -> Never {
    let failure = TenantsCommandFailed(reporting: error)
    if !failure.reported {
        FileHandle.standardError.write(Data("error: \(failure.description)\n".utf8))
    }
    if let note { FileHandle.standardError.write(Data(note.utf8)) }
    guard exiting else { throw failure }
    // `context.application` would be a fatalError when the command runs without one.
    if let application = context.userInfo["application"] as? Application, !application.didShutdown {
        try? await application.asyncShutdown()
    }
    exit(EXIT_FAILURE)
}

extension CommandContext {
    /// The shared command behaviours over the application's tenancy.
    var commands: TenantCommands {
        get throws { TenantCommands(tenancy: try application.tenanted.requireTenancy()) }
    }
}

// Each subcommand parses its signature and calls the one shared implementation, TenantCommands.

struct ListTenants: AsyncCommand {
    struct Signature: CommandSignature {
        @Flag(name: "json", help: "Print a JSON array.")
        var json: Bool
    }

    let help = "Lists every tenant, sorted."

    func run(using context: CommandContext, signature: Signature) async throws {
        try await context.commands.list(json: signature.json)
    }
}

struct CreateTenant: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "name", help: "The new tenant's name: a-z, 0-9, '-' and '_'.")
        var name: String
        @Flag(name: "if-not-exists", help: "An existing tenant is not an error.")
        var ifNotExists: Bool
    }

    let help = "Creates a tenant: its database, its migrations, then makes it visible."

    func run(using context: CommandContext, signature: Signature) async throws {
        try await context.commands.create(signature.name, ifNotExists: signature.ifNotExists)
    }
}

struct DestroyTenant: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "name", help: "The tenant to destroy, with all its data.")
        var name: String
    }

    let help = "Destroys a tenant and everything in its database."

    func run(using context: CommandContext, signature: Signature) async throws {
        try await context.commands.destroy(signature.name)
    }
}

struct MoveTenant: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "name", help: "The tenant to move.")
        var name: String
        @Option(name: "to", help: "The server to move it to (a name from the store's configuration).")
        var server: String?
        @Flag(name: "json", help: "Print the report as JSON.")
        var json: Bool
    }

    let help = "Moves a tenant to another server: copy, verify row counts, switch, delete the old copy."

    func run(using context: CommandContext, signature: Signature) async throws {
        try await context.commands.move(signature.name, to: signature.server, json: signature.json)
    }
}

struct MigrationSignature: CommandSignature {
    @Option(name: "tenant", help: "Only this tenant (default: the TENANT environment variable, else every tenant).")
    var tenant: String?
    @Option(name: "parallel", help: "Tenants at a time (default 4).")
    var parallel: Int?
    @Flag(name: "json", help: "Print a JSON report.")
    var json: Bool

    init() {}
}

struct MigrateTenants: AsyncCommand {
    typealias Signature = MigrationSignature
    let help = "Applies pending migrations to one tenant or every tenant."

    func run(using context: CommandContext, signature: Signature) async throws {
        try await context.commands.migrate(tenant: signature.tenant, parallel: signature.parallel, json: signature.json)
    }
}

struct RollbackTenants: AsyncCommand {
    typealias Signature = MigrationSignature
    let help = "Reverts the last batch of migrations of one tenant or every tenant."

    func run(using context: CommandContext, signature: Signature) async throws {
        try await context.commands.rollback(tenant: signature.tenant, parallel: signature.parallel, json: signature.json)
    }
}

struct TenantStatus: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "tenant", help: "Only this tenant (default: the TENANT environment variable, else every tenant).")
        var tenant: String?
        @Flag(name: "json", help: "Print a JSON array.")
        var json: Bool
    }

    let help = "Shows each tenant's applied and pending migrations."

    func run(using context: CommandContext, signature: Signature) async throws {
        try await context.commands.status(tenant: signature.tenant, json: signature.json)
    }
}
