public import ArgumentParser
import Tenanted

// `tenants backup | restore | clone | suspend | resume | seed`: each parses its options and calls the
// shared implementation (TenantCommands+Operations.swift and TenantCommands+Seed.swift in Tenanted),
// with TenantedVapor's names, options and output.
extension TenantsCommand {
    /// `tenants backup NAME --to FILE`.
    public struct Backup: AsyncParsableCommand {
        public static var configuration: CommandConfiguration {
            .init(abstract: "Writes a consistent backup of a tenant to a new file, while it keeps serving.")
        }
        @Argument(help: "The tenant to back up.") var name: String
        @Option(name: .customLong("to"), help: "The backup file to write (must not exist).") var file: String?
        public init() {}
        public func run() async throws { try await TenantsCommand.run { try await $0.backup(name, to: file) } }
    }

    /// `tenants restore NAME --from FILE [--replace]`.
    public struct Restore: AsyncParsableCommand {
        public static var configuration: CommandConfiguration {
            .init(abstract: "Creates a tenant from a backup (invisible until complete, then migrated).")
        }
        @Argument(help: "The tenant to create from the backup.") var name: String
        @Option(name: .customLong("from"), help: "The backup file.") var file: String?
        @Flag(name: .customLong("replace"), help: "Replace the tenant's data if it exists.") var replace = false
        public init() {}
        public func run() async throws { try await TenantsCommand.run { try await $0.restore(name, from: file, replace: replace) } }
    }

    /// `tenants clone SOURCE DESTINATION`.
    public struct Clone: AsyncParsableCommand {
        public static var configuration: CommandConfiguration {
            .init(abstract: "Creates a tenant with a copy of another tenant's data.")
        }
        @Argument(help: "The tenant to copy.") var source: String
        @Argument(help: "The new tenant.") var destination: String
        public init() {}
        public func run() async throws { try await TenantsCommand.run { try await $0.clone(source, to: destination) } }
    }

    /// `tenants suspend NAME [--reason TEXT]`.
    public struct Suspend: AsyncParsableCommand {
        public static var configuration: CommandConfiguration {
            .init(abstract: "Suspends a tenant: every request gets 503 until it is resumed.")
        }
        @Argument(help: "The tenant to suspend.") var name: String
        @Option(name: .customLong("reason"), help: "Why (for operators; clients never see it).") var reason: String?
        public init() {}
        public func run() async throws { try await TenantsCommand.run { try await $0.suspend(name, reason: reason) } }
    }

    /// `tenants resume NAME`.
    public struct Resume: AsyncParsableCommand {
        public static var configuration: CommandConfiguration { .init(abstract: "Resumes a suspended tenant.") }
        @Argument(help: "The tenant to resume.") var name: String
        public init() {}
        public func run() async throws { try await TenantsCommand.run { try await $0.resume(name) } }
    }

    /// `tenants seed [--tenant NAME] [--all]`.
    public struct Seed: AsyncParsableCommand {
        public static var configuration: CommandConfiguration { .init(abstract: "Runs the seed again on one tenant or on every tenant.") }
        @Option(name: .customLong("tenant"), help: "The tenant to seed again (default: TENANT); omit with --all.") var name: String?
        @Flag(name: .customLong("all"), help: "Seed every tenant again.") var all = false
        public init() {}
        public func run() async throws { try await TenantsCommand.run { try await $0.seed(name, all: all) } }
    }
}
