public import Logging

extension Logger.MetadataProvider {
    /// Adds `tenant` to every log line emitted inside a tenant scope.
    ///
    /// ```swift
    /// LoggingSystem.bootstrap(StreamLogHandler.standardOutput, metadataProvider: .tenanted)
    /// ```
    public static let tenanted = Logger.MetadataProvider {
        guard let tenant = Tenant.current else { return [:] }
        return [Logger.tenantMetadataKey: .string(tenant.rawValue)]
    }
}

extension Logger {
    /// The metadata key Tenanted uses for the tenant: `"tenant"`.
    public static let tenantMetadataKey = "tenant"
}
