import Foundation
import Vapor

/// Fluent's `migrate` command, wrapped so that with a tenancy in use it says what it did not do.
///
/// Fluent's `migrate` runs `app.migrations`, on the shared (untenanted) databases; tenant migrations
/// live on a `TenantMigrations` set that only `tenants migrate` applies. Unwrapped, `migrate --yes`
/// after adding a tenant migration prints `No new migrations.` and exits 0 while every tenant stays
/// behind (issue 15). Wrapped, it still runs the shared migrations as before, then says on standard
/// error that tenants are migrated with `tenants migrate` (rolled back with `tenants rollback`).
/// When Fluent's command fails (typically `noTenant`: a tenant migration was added to
/// `app.migrations`), it prints one error line and that note and exits with status 1, as a failed
/// `tenants` command does, instead of throwing into Vapor's template.
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
        do {
            try await fluent.run(using: &context)
        } catch {
            // Like a failed `tenants` command: one line and status 1, not a crash in Vapor's template.
            // The likely cause is a tenant migration added to app.migrations, which runs without a tenant.
            try await fail(with: error, context: context, exiting: true, note: Self.notice(reverting: reverting, failed: true))
        }
        FileHandle.standardError.write(Data(Self.notice(reverting: reverting).utf8))
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

    /// The line `migrate` ends with; after a failure, it says where tenant migrations belong.
    static func notice(reverting: Bool, failed: Bool = false) -> String {
        if failed {
            return "note: `migrate` runs shared migrations only (app.migrations), without a tenant; "
                + "tenant migrations go on a TenantMigrations set and are applied with `tenants migrate`\n"
        }
        return reverting
            ? "note: `migrate --revert` reverted shared migrations only (app.migrations); tenants are rolled back with `tenants rollback`\n"
            : "note: `migrate` ran shared migrations only (app.migrations); tenant migrations are applied with `tenants migrate` (`tenants status` lists what is pending)\n"
    }
}
