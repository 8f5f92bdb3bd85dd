/// The one error type of Tenanted.
///
/// Every failure Tenanted reports is a `TenantedError` with a ``code`` you can switch on, a
/// human-readable ``message`` that names the tenant and the operation, and — when another layer
/// failed — the ``underlying`` error.
///
/// ``description`` is safe to show to users and to log at any level: it never contains file
/// paths, connection strings or the underlying error's text (which may contain either).
/// ``debugDescription`` adds the underlying error and the private detail.
///
/// ```swift
/// do {
///     try await tenancy.createTenant(name)
/// } catch let error as TenantedError where error.code == .tenantExists {
///     // already there
/// }
/// ```
public struct TenantedError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case noTenant
            case badTenantName
            case tenantNotFound
            case tenantExists
            case switchProhibited
            case wrongTenant
            case pendingMigrations
            case migrationFailed
            case storeFailure
            case invalidConfiguration
            case shutdown
            case poolLimitReached
            case badReference
            case misuse
            case badFileName
            case fileNotFound
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// Thrown when code that needs a tenant runs outside every tenant scope.
        public static let noTenant = Code(.noTenant)
        /// Thrown when a tenant name breaks one of the ``TenantID`` rules.
        public static let badTenantName = Code(.badTenantName)
        /// Thrown when the named tenant does not exist (or is still being created).
        public static let tenantNotFound = Code(.tenantNotFound)
        /// Thrown when creating a tenant that already exists (or is being created by someone else).
        public static let tenantExists = Code(.tenantExists)
        /// Thrown when a scope that prohibits switching is asked to enter a different tenant.
        public static let switchProhibited = Code(.switchProhibited)
        /// Thrown when a record or reference of one tenant is used while another tenant is current.
        public static let wrongTenant = Code(.wrongTenant)
        /// Thrown when a tenant's schema lacks a registered migration at open time.
        public static let pendingMigrations = Code(.pendingMigrations)
        /// Thrown when running a tenant's migrations failed.
        public static let migrationFailed = Code(.migrationFailed)
        /// Thrown when the store (file system, database server) failed.
        public static let storeFailure = Code(.storeFailure)
        /// Thrown when a configuration value (path template, root, limit…) is invalid.
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// Thrown when Tenanted has been shut down and is asked to do more work.
        public static let shutdown = Code(.shutdown)
        /// Thrown when a lease waited too long because every pool, overflow included, was in use.
        public static let poolLimitReached = Code(.poolLimitReached)
        /// Thrown when a record reference (a `GlobalRecordID` string) is malformed, is for another
        /// model, or names no tenant.
        public static let badReference = Code(.badReference)
        /// Thrown when an API is used in a way it does not support — a fix belongs in the calling code
        /// (a model without `@TenantOrigin` asked for its tenant, the tenant's writer asked for again
        /// inside a transaction that holds it).
        public static let misuse = Code(.misuse)
        /// A tenant file's name is not allowed (``TenantFileKey``).
        public static let badFileName = Code(.badFileName)
        /// The current tenant has no file of that name.
        public static let fileNotFound = Code(.fileNotFound)


        public var description: String { base.rawValue }
    }

    /// What kind of failure this is.
    public var code: Code
    /// A short sentence saying what happened, to which tenant and what to do. Never contains paths.
    public var message: String
    /// The tenant the failure concerns, when there is one.
    public var tenant: TenantID?
    /// The error of the layer below (file system, SQLite, PostgreSQL…), when there is one.
    public var underlying: (any Error)?
    /// Private detail (a path, an SQL statement) shown only by ``debugDescription``.
    public var detail: String?

    /// Creates an error.
    public init(
        _ code: Code,
        _ message: String,
        tenant: TenantID? = nil,
        underlying: (any Error)? = nil,
        detail: String? = nil
    ) {
        self.code = code
        self.message = message
        self.tenant = tenant
        self.underlying = underlying
        self.detail = detail
    }

    /// `"<code>: <message>"` — never a path or connection string.
    public var description: String { "\(code): \(message)" }

    /// ``description`` plus the private detail and the underlying error.
    public var debugDescription: String {
        var text = description
        if let detail { text += " [\(detail)]" }
        if let underlying { text += " (underlying: \(String(reflecting: underlying)))" }
        return text
    }
}

extension TenantedError {
    /// `noTenant` for an operation that needs a current tenant.
    package static func noTenant(_ operation: String) -> TenantedError {
        TenantedError(
            .noTenant,
            "\(operation) needs a current tenant, and none is set; wrap the call in withTenant(_:_:)"
        )
    }

    /// `tenantNotFound` for the given tenant.
    package static func notFound(_ tenant: TenantID, _ operation: String) -> TenantedError {
        TenantedError(.tenantNotFound, "\(operation): tenant '\(tenant)' does not exist", tenant: tenant)
    }

    /// `tenantExists` for the given tenant.
    package static func exists(_ tenant: TenantID) -> TenantedError {
        TenantedError(
            .tenantExists,
            "cannot create tenant '\(tenant)': it already exists or is being created",
            tenant: tenant
        )
    }
}
