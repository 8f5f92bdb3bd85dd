import Tenanted
import Vapor

// `tenants backup | restore | clone | suspend | resume`: each parses its signature and calls the
// shared implementation (TenantCommands+Operations.swift in Tenanted).

struct BackupTenant: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "name", help: "The tenant to back up.")
        var name: String
        @Option(name: "to", help: "The backup file to write (must not exist).")
        var file: String?
    }

    let help = "Writes a consistent backup of a tenant to a new file, while it keeps serving."

    func run(using context: CommandContext, signature: Signature) async throws {
        try await context.commands.backup(signature.name, to: signature.file)
    }
}

struct RestoreTenant: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "name", help: "The tenant to create from the backup.")
        var name: String
        @Option(name: "from", help: "The backup file.")
        var file: String?
        @Flag(name: "replace", help: "Replace the tenant's data if it exists.")
        var replace: Bool
    }

    let help = "Creates a tenant from a backup (invisible until complete, then migrated)."

    func run(using context: CommandContext, signature: Signature) async throws {
        try await context.commands.restore(signature.name, from: signature.file, replace: signature.replace)
    }
}

struct CloneTenant: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "source", help: "The tenant to copy.")
        var source: String
        @Argument(name: "destination", help: "The new tenant.")
        var destination: String
    }

    let help = "Creates a tenant with a copy of another tenant's data."

    func run(using context: CommandContext, signature: Signature) async throws {
        try await context.commands.clone(signature.source, to: signature.destination)
    }
}

struct SuspendTenant: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "name", help: "The tenant to suspend.")
        var name: String
        @Option(name: "reason", help: "Why (for operators; clients never see it).")
        var reason: String?
    }

    let help = "Suspends a tenant: every request gets 503 until it is resumed."

    func run(using context: CommandContext, signature: Signature) async throws {
        try await context.commands.suspend(signature.name, reason: signature.reason)
    }
}

struct ResumeTenant: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(name: "name", help: "The tenant to resume.")
        var name: String
    }

    let help = "Resumes a suspended tenant."

    func run(using context: CommandContext, signature: Signature) async throws {
        try await context.commands.resume(signature.name)
    }
}

struct SeedTenants: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "tenant", help: "The tenant to seed again (default: TENANT); omit with --all.")
        var name: String?
        @Flag(name: "all", help: "Seed every tenant again.")
        var all: Bool
    }

    let help = "Runs the seed again on one tenant or on every tenant."

    func run(using context: CommandContext, signature: Signature) async throws {
        try await context.commands.seed(signature.name, all: signature.all)
    }
}
