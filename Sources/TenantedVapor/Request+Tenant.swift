public import Tenanted
public import Vapor

/// The 404 for a request whose tenant is invalid or unknown; says nothing about the name.
struct TenantNotFound: AbortError {
    var status: HTTPResponseStatus { .notFound }
    var reason: String { "tenant not found" }
}

struct TenantStorageKey: StorageKey {
    typealias Value = TenantID
}

/// The tenancy the middleware resolved the request's tenant in.
struct TenancyStorageKey: StorageKey {
    typealias Value = Tenancy
}

extension Request {
    /// The tenant ``TenantMiddleware`` resolved for this request, or `nil`.
    public var tenant: TenantID? {
        storage[TenantStorageKey.self]
    }

    /// The request's tenant.
    /// - Throws: ``Tenanted/TenantedError/Code/noTenant`` (a 404) when the request has none.
    public func requireTenant() throws -> TenantID {
        guard let tenant else { throw TenantedError(.noTenant, "this request names no tenant") }
        return tenant
    }

    /// Runs `body` in the request's tenant again — in the tenancy ``TenantMiddleware`` resolved it in —
    /// where the task-local context does not reach:
    /// websocket handlers and their frame callbacks, `Task.detached`, event-loop callbacks.
    ///
    /// ```swift
    /// ws.onText { ws, text in
    ///     try? await req.withTenant { try await Message(text: text).create(on: req.db) }
    /// }
    /// ```
    ///
    /// - Throws: ``Tenanted/TenantedError/Code/noTenant`` when the request has no tenant.
    public func withTenant<Result: Sendable>(_ body: @Sendable () async throws -> Result) async throws -> Result {
        let tenant = try requireTenant()
        let tenancy = try storage[TenancyStorageKey.self] ?? application.tenanted.requireTenancy()
        return try await tenancy.withTenant(tenant, prohibitingSwitches: true, isolation: nil, body)
    }
}
