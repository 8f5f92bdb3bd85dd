import Foundation
import Tenanted
public import Vapor

/// The `tenants` command group: `list`, `create`, `destroy`, `migrate`, `rollback`, `status`, `move`.
///
/// ```swift
/// app.tenanted.use(tenancy)
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
    public let help = "Create, list, migrate, roll back, move and destroy tenants."

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

/// Thrown by a failed `tenants` command built with `TenantsCommand(exitsOnFailure: false)`, after
/// its one-line report is on standard error.
public struct TenantsCommandFailed: Error, CustomStringConvertible {
    /// What failed, in one line.
    public let description: String
    /// Whether the line was already printed (by the subcommand, which knows more).
    let reported: Bool

    init(description: String, reported: Bool = true) {
        self.description = description
        self.reported = reported
    }

    /// The failure for `error`: itself when it is one, else a one-line description not yet printed.
    /// A `TenantedError` says what it says (never a path); Vapor's argument errors say what is missing.
    init(reporting error: any Error) {
        switch error {
        case let failure as TenantsCommandFailed: self = failure
        case let error as TenantedError: self.init(description: error.description, reported: false)
        default:
            let line = String(describing: error).split(whereSeparator: \.isNewline).joined(separator: " ")
            self.init(description: line, reported: false)
        }
    }
}

extension CommandContext {
    var tenancy: any AnyTenancy {
        get throws { try application.tenanted.requireTenancy() }
    }

    /// `--tenant`, else `TENANT`, else `nil`; validated.
    func selectedTenant(_ option: String?) throws -> TenantID? {
        guard let name = option ?? ProcessInfo.processInfo.environment["TENANT"], !name.isEmpty else { return nil }
        return try TenantID(name)
    }
}

/// Runs a command's body, printing a `TenantedError` as its own message on standard error
/// (`error: tenantExists: cannot create tenant 'acme': it already exists or is being created`) and
/// failing with ``TenantsCommandFailed``, which ``TenantsCommand`` turns into the exit status.
///
/// Left to Vapor, the error would be logged as its HTTP reason, "Internal Server Error", because
/// `TenantedError` is an `AbortError` (found by the cross-process create race test, whose loser
/// could not tell `tenantExists` from a crash). The description never holds a path.
func reportingFailures(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as TenantedError {
        FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
        throw TenantsCommandFailed(description: error.description)
    }
}

/// Writes `value` as JSON on standard output.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    FileHandle.standardOutput.write(try encoder.encode(value) + Data("\n".utf8))
}

func printLine(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

struct ListTenants: AsyncCommand {
    struct Signature: CommandSignature {
        @Flag(name: "json", help: "Print a JSON array.")
        var json: Bool
    }

    let help = "Lists every tenant, sorted."

    func run(using context: CommandContext, signature: Signature) async throws {
        try await reportingFailures {
            let tenants = try await context.tenancy.tenants()
            if signature.json {
                try printJSON(tenants.map(\.description))
            } else {
                for tenant in tenants { printLine(tenant.description) }
            }
        }
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
        try await reportingFailures {
            let tenant = try TenantID(signature.name)
            let created = try await context.tenancy.createTenant(tenant, ifNotExists: signature.ifNotExists)
            printLine(created ? "created \(tenant)" : "exists \(tenant)")
        }
    }
}

struct DestroyTenant: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "name", help: "The tenant to destroy, with all its data.")
        var name: String
    }

    let help = "Destroys a tenant and everything in its database."

    func run(using context: CommandContext, signature: Signature) async throws {
        try await reportingFailures {
            let tenant = try TenantID(signature.name)
            try await context.tenancy.destroyTenant(tenant)
            printLine("destroyed \(tenant)")
        }
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
        try await reportingFailures {
            let tenant = try TenantID(signature.name)
            guard let server = signature.server, !server.isEmpty else {
                throw TenantedError(.invalidConfiguration, "tenants move needs --to SERVER")
            }
            let report = try await context.tenancy.moveTenant(tenant, to: server)
            if signature.json {
                try printJSON(report)
            } else {
                let rows = report.rowCounts.values.reduce(0, +)
                printLine("moved \(tenant) from \(report.from) to \(report.to) (\(report.rowCounts.count) tables, \(rows) rows verified)")
            }
        }
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
        try await reportingFailures {
            try await runReport(context, signature, verb: "migrated") { tenancy, tenant in
                let applied = try await tenancy.migrate(tenant)
                return applied.isEmpty ? .current : .migrated(applied)
            } all: { tenancy, parallel, progress in
                try await tenancy.migrateAll(maximumConcurrency: parallel, progress: progress)
            }
        }
    }
}

struct RollbackTenants: AsyncCommand {
    typealias Signature = MigrationSignature
    let help = "Reverts the last batch of migrations of one tenant or every tenant."

    func run(using context: CommandContext, signature: Signature) async throws {
        try await reportingFailures {
            try await runReport(context, signature, verb: "reverted") { tenancy, tenant in
                let reverted = try await tenancy.rollback(tenant)
                return reverted.isEmpty ? .current : .reverted(reverted)
            } all: { tenancy, parallel, progress in
                try await tenancy.rollbackAll(maximumConcurrency: parallel, progress: progress)
            }
        }
    }
}

/// Runs a migrate or rollback over one tenant or all, prints the report, throws when any failed.
private func runReport(
    _ context: CommandContext,
    _ signature: MigrationSignature,
    verb: String,
    one: (any AnyTenancy, TenantID) async throws -> TenantMigrationResult.Outcome,
    all: (any AnyTenancy, Int?, (@Sendable (MigrationProgress) -> Void)?) async throws -> MigrationReport
) async throws {
    let tenancy = try context.tenancy
    if let parallel = signature.parallel, parallel < 1 {
        throw TenantedError(.invalidConfiguration, "--parallel must be at least 1, got \(parallel)")
    }
    let report: MigrationReport
    if let tenant = try context.selectedTenant(signature.tenant) {
        do {
            report = MigrationReport(results: [TenantMigrationResult(tenant: tenant, outcome: try await one(tenancy, tenant))])
        } catch let error as TenantedError where error.code != .tenantNotFound && error.code != .invalidConfiguration {
            report = MigrationReport(results: [TenantMigrationResult(tenant: tenant, outcome: .failed(error))])
        }
    } else {
        let bar = ProgressBar(enabled: !signature.json && isatty(STDERR_FILENO) == 1)
        report = try await all(tenancy, signature.parallel) { bar.update($0) }
        bar.finish()
    }
    if signature.json {
        try printJSON(ReportJSON(report))
    } else {
        for result in report.results {
            switch result.outcome {
            case .failed(let error): printLine("FAILED \(result.tenant): \(error.description)")
            case .migrated(let names), .reverted(let names): printLine("\(verb) \(result.tenant): \(names.joined(separator: ", "))")
            case .current: break
            }
        }
        let changed = report.results.count - report.current.count - report.failures.count
        printLine("\(report.results.count) tenant(s): \(changed) \(verb), \(report.current.count) unchanged, \(report.failures.count) failed")
    }
    if !report.succeeded {
        let failed = "\(report.failures.count) of \(report.results.count) tenant(s) failed"
        FileHandle.standardError.write(Data("error: \(failed)\n".utf8))
        throw TenantsCommandFailed(description: failed)
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
        try await reportingFailures {
            let tenancy = try context.tenancy
            let tenants: [TenantID]
            if let tenant = try context.selectedTenant(signature.tenant) {
                tenants = [tenant]
            } else {
                tenants = try await tenancy.tenants()
            }
            var statuses: [MigrationStatus] = []
            for tenant in tenants { statuses.append(try await tenancy.migrationStatus(tenant)) }
            if signature.json {
                try printJSON(statuses.map(StatusJSON.init))
            } else {
                for status in statuses {
                    let pending = status.pending.isEmpty ? "up to date" : "\(status.pending.count) pending: \(status.pending.joined(separator: ", "))"
                    printLine("\(status.tenant): \(status.applied.count) applied, \(pending)")
                }
            }
        }
    }
}

struct StatusJSON: Encodable {
    let tenant: String
    let applied: [String]
    let pending: [String]

    init(_ status: MigrationStatus) {
        tenant = status.tenant.description
        applied = status.applied
        pending = status.pending
    }
}

struct ReportJSON: Encodable {
    struct Entry: Encodable {
        let tenant: String
        let outcome: String
        let migrations: [String]
        let error: String?
    }

    let succeeded: Bool
    let results: [Entry]

    init(_ report: MigrationReport) {
        succeeded = report.succeeded
        results = report.results.map { result in
            switch result.outcome {
            case .migrated(let names): Entry(tenant: result.tenant.description, outcome: "migrated", migrations: names, error: nil)
            case .reverted(let names): Entry(tenant: result.tenant.description, outcome: "reverted", migrations: names, error: nil)
            case .current: Entry(tenant: result.tenant.description, outcome: "current", migrations: [], error: nil)
            case .failed(let error): Entry(tenant: result.tenant.description, outcome: "failed", migrations: [], error: error.description)
            }
        }
    }
}

/// A one-line progress bar on standard error, redrawn in place.
final class ProgressBar: Sendable {
    let enabled: Bool

    init(enabled: Bool) { self.enabled = enabled }

    func update(_ progress: MigrationProgress) {
        guard enabled, progress.total > 0 else { return }
        let width = 30
        let filled = progress.completed * width / progress.total
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        FileHandle.standardError.write(Data("\r[\(bar)] \(progress.completed)/\(progress.total)".utf8))
    }

    func finish() {
        if enabled { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
