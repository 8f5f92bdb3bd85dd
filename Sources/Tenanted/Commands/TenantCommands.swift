import Foundation

/// What the `tenants` commands do — `list`, `create`, `destroy`, `move`, `migrate`, `rollback`,
/// `status`, `backup`, `restore`, `clone`, `suspend`, `resume` — whatever parses their command line: Vapor's `TenantsCommand`, a swift-argument-parser
/// command in a Hummingbird app, your own tool. A front end only parses and calls one method.
///
/// Results go to ``Output/standardOutput`` (with `json`, nothing but JSON), the progress bar and
/// errors to ``Output/standardError``. A failure prints **one line**, `error: <code>: <message>`,
/// and throws ``TenantsCommandFailed``, whose ``TenantsCommandFailed/exitStatus`` the front end
/// exits with. For the commands that act on one tenant, the `TENANT` environment variable names it
/// when the option is absent (like activerecord-tenanted's `ARTENANT`).
///
/// ```swift
/// let commands = TenantCommands(tenancy: tenancy)
/// try await commands.create("acme", ifNotExists: false)   // prints "created acme"
/// ```
public struct TenantCommands: Sendable {
    /// Where a command writes.
    public struct Output: Sendable {
        /// Receives results: whole lines, each ending with a newline, one or more per call (a long
        /// list comes in batches, so 100,000 names are not 100,000 writes).
        public var standardOutput: @Sendable (String) -> Void
        /// Receives errors and the progress bar.
        public var standardError: @Sendable (String) -> Void
        /// Whether standard error is a terminal: the progress bar is drawn only then.
        public var errorIsTerminal: Bool

        /// An output; every parameter is what its property says.
        public init(
            standardOutput: @escaping @Sendable (String) -> Void,
            standardError: @escaping @Sendable (String) -> Void,
            errorIsTerminal: Bool
        ) {
            self.standardOutput = standardOutput
            self.standardError = standardError
            self.errorIsTerminal = errorIsTerminal
        }

        /// The process's standard output and standard error.
        public static var standard: Output {
            Output(
                standardOutput: { FileHandle.standardOutput.write(Data($0.utf8)) },
                standardError: { FileHandle.standardError.write(Data($0.utf8)) },
                errorIsTerminal: isatty(STDERR_FILENO) == 1
            )
        }
    }

    /// The tenancy the commands act on.
    public let tenancy: Tenancy
    /// Where they write.
    public let output: Output
    /// Where `TENANT` is read. Default: the process's environment.
    public let environment: [String: String]

    /// Commands over `tenancy`; every parameter but the first has the default its property states
    /// (`nil`: the process's environment).
    public init(tenancy: Tenancy, output: Output = .standard, environment: [String: String]? = nil) {
        self.tenancy = tenancy
        self.output = output
        self.environment = environment ?? ProcessInfo.processInfo.environment
    }

    /// `tenants list [--json]`: every tenant, sorted, one a line or as a JSON array.
    public func list(json: Bool) async throws {
        try await reportingFailures {
            let tenants = try await tenancy.tenants()
            if json {
                try printJSON(tenants.map(\.description))
            } else {
                // Batches of lines: one write per 4,096 names, not one per name.
                for start in stride(from: 0, to: tenants.count, by: 4_096) {
                    var batch = ""
                    for tenant in tenants[start..<min(start + 4_096, tenants.count)] {
                        batch += tenant.description
                        batch += "\n"
                    }
                    output.standardOutput(batch)
                }
            }
        }
    }

    /// `tenants create NAME [--if-not-exists]`: prints `created NAME` (or `exists NAME`).
    public func create(_ name: String, ifNotExists: Bool) async throws {
        try await reportingFailures {
            let tenant = try TenantID(name)
            let created = try await tenancy.createTenant(tenant, ifNotExists: ifNotExists)
            printLine(created ? "created \(tenant)" : "exists \(tenant)")
        }
    }

    /// `tenants destroy NAME`: prints `destroyed NAME`.
    public func destroy(_ name: String) async throws {
        try await reportingFailures {
            let tenant = try TenantID(name)
            try await tenancy.destroyTenant(tenant)
            printLine("destroyed \(tenant)")
        }
    }

    /// `tenants move NAME --to SERVER [--json]`: prints what was moved and verified, or the report
    /// as JSON.
    public func move(_ name: String, to server: String?, json: Bool) async throws {
        try await reportingFailures {
            let tenant = try TenantID(name)
            let report = try await tenancy.moveTenant(tenant, to: try required(server, "tenants move needs --to SERVER"))
            if json {
                try printJSON(report)
            } else {
                let rows = report.rowCounts.values.reduce(0, +)
                printLine("moved \(tenant) from \(report.from) to \(report.to) (\(report.rowCounts.count) tables, \(rows) rows verified)")
            }
        }
    }

    /// `tenants status [--tenant NAME] [--json]`: each tenant's applied and pending migrations, and
    /// whether it is suspended (`"suspended": true|false` in the JSON).
    public func status(tenant option: String?, json: Bool) async throws {
        try await reportingFailures {
            let tenants: [TenantID]
            if let tenant = try selectedTenant(option) {
                tenants = [tenant]
            } else {
                tenants = try await tenancy.tenants()
            }
            var statuses: [(status: MigrationStatus, suspended: Bool)] = []
            for tenant in tenants {
                let suspended = try await tenancy.suspension(of: tenant) != nil
                statuses.append((try await tenancy.migrationStatus(tenant), suspended))
            }
            if json {
                try printJSON(statuses.map { StatusJSON($0.status, suspended: $0.suspended) })
            } else {
                for (status, suspended) in statuses {
                    let pending = status.pending.isEmpty ? "up to date" : "\(status.pending.count) pending: \(status.pending.joined(separator: ", "))"
                    printLine("\(status.tenant): \(status.applied.count) applied, \(pending)\(suspended ? ", suspended" : "")")
                }
            }
        }
    }

    // MARK: Helpers

    /// The value of a required option, or ``TenantedError/Code/invalidConfiguration`` with `usage`
    /// when it is missing or empty.
    func required(_ option: String?, _ usage: String) throws(TenantedError) -> String {
        guard let option, !option.isEmpty else { throw TenantedError(.invalidConfiguration, usage) }
        return option
    }

    /// `option`, else `TENANT`, else `nil`; validated.
    func selectedTenant(_ option: String?) throws(TenantedError) -> TenantID? {
        guard let name = option ?? environment["TENANT"], !name.isEmpty else { return nil }
        return try TenantID(name)
    }

    /// Runs `body`; a `TenantedError` is printed as its own one line and becomes
    /// ``TenantsCommandFailed`` (a web framework would report it as its HTTP reason).
    func reportingFailures(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as TenantedError {
            output.standardError("error: \(error.description)\n")
            throw TenantsCommandFailed(description: error.description)
        }
    }

    func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        output.standardOutput(String(decoding: try encoder.encode(value), as: UTF8.self) + "\n")
    }

    func printLine(_ line: String) {
        output.standardOutput(line + "\n")
    }
}
