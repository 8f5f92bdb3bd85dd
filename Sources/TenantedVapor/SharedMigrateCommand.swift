import Foundation
import Vapor

/// Fluent's `migrate` command, wrapped so that with a tenancy in use it says what it did not do.
///
/// Fluent's `migrate` runs `app.migrations`, on the shared (untenanted) databases; tenant migrations
/// live on a `TenantMigrations` set that only `tenants migrate` applies. Unwrapped, `migrate --yes`
/// after adding a tenant migration prints `No new migrations.` and exits 0 while every tenant stays
/// behind (issue 15). Wrapped, it still runs the shared migrations as before, then says on standard
/// error that tenants are migrated with `tenants migrate` (rolled back with `tenants rollback`).
///
/// It does not migrate the tenants itself: `migrate` is often run on every deploy, and migrating
/// 100,000 tenants is a step to take on purpose, with `--parallel` and a report.
struct SharedMigrateCommand: AnyAsyncCommand {
    /// Fluent's command.
    let fluent: any AnyAsyncCommand

    var help: String {
        "\(fluent.help) (shared databases only; tenants: `tenants migrate`)"
    }

    func run(using context: inout CommandContext) async throws {
        let reverting = context.input.arguments.contains("--revert")
        defer { FileHandle.standardError.write(Data(Self.notice(reverting: reverting).utf8)) }
        try await fluent.run(using: &context)
    }

    func outputHelp(using context: inout CommandContext) throws {
        try fluent.outputHelp(using: &context)
        context.console.print()
        context.console.print(Self.notice(reverting: false).trimmingCharacters(in: .newlines))
    }

    func outputAutoComplete(using context: inout CommandContext) throws {
        try fluent.outputAutoComplete(using: &context)
    }

    func renderCompletionFunctions(using context: CommandContext, shell: Shell) -> String {
        fluent.renderCompletionFunctions(using: context, shell: shell)
    }

    /// The line `migrate` ends with.
    static func notice(reverting: Bool) -> String {
        reverting
            ? "note: `migrate --revert` reverted shared migrations only (app.migrations); tenants are rolled back with `tenants rollback`\n"
            : "note: `migrate` ran shared migrations only (app.migrations); tenant migrations are applied with `tenants migrate` (`tenants status` lists what is pending)\n"
    }
}
