/// A unit of background work that remembers the tenant it was enqueued in: the envelope a job queue
/// stores, so the work runs later in the same tenant, in whatever process picks it up.
///
/// ```swift
/// // In a request (inside the tenant's scope):
/// let job = try TenantJob(SendInvoice(id: 7))            // captures the current tenant
/// try await queue.push(JSONEncoder().encode(job))
///
/// // In the worker:
/// let job = try JSONDecoder().decode(TenantJob<SendInvoice>.self, from: data)
/// try await tenancy.run(job) { invoice in try await send(invoice) }   // back in the tenant
/// ```
///
/// Enqueueing outside a tenant fails with ``TenantedError/Code/noTenant`` unless the work says it is
/// untenanted (``untenanted(_:)``): work never silently lands in no tenant, or in the wrong one.
/// The Codable form is `{"tenant": "acme", "payload": …}` (`"tenant": null` when untenanted); a
/// tenant name that is not valid fails decoding.
public struct TenantJob<Payload: Sendable>: Sendable {
    /// The tenant the work runs in; `nil` for work that is explicitly untenanted.
    public let tenant: TenantID?
    /// The work's own data.
    public let payload: Payload

    /// Work for the current tenant.
    /// - Throws: ``TenantedError/Code/noTenant`` outside every tenant scope.
    public init(_ payload: Payload) throws(TenantedError) {
        self.init(tenant: try Tenant.require(), payload: payload)
    }

    /// Work for `tenant`, enqueued from anywhere (an admin task, a scheduler).
    public init(tenant: TenantID, payload: Payload) {
        self.tenant = tenant
        self.payload = payload
    }

    private init(untenanted payload: Payload) {
        self.tenant = nil
        self.payload = payload
    }

    /// Work that belongs to no tenant (shared data, maintenance), said explicitly.
    public static func untenanted(_ payload: Payload) -> Self { Self(untenanted: payload) }
}

extension TenantJob: Codable where Payload: Codable {}
extension TenantJob: Equatable where Payload: Equatable {}

extension Tenancy {
    /// Runs `job`'s work in the tenant it was enqueued in (``withTenant(_:prohibitingSwitches:isolation:_:)``,
    /// switching prohibited), or outside every tenant when it is untenanted.
    ///
    /// - Throws: ``TenantedError/Code/tenantNotFound`` when the tenant was destroyed since the work
    ///   was enqueued (the body does not run), or what the body throws.
    public func run<Payload: Sendable, Result>(
        _ job: TenantJob<Payload>,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (Payload) async throws -> Result
    ) async throws -> Result {
        guard let tenant = job.tenant else {
            return try await withoutTenant(isolation: isolation) { try await body(job.payload) }
        }
        return try await withTenant(tenant, prohibitingSwitches: true, isolation: isolation) { try await body(job.payload) }
    }
}
