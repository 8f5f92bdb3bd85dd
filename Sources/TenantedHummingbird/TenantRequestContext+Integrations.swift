public import Hummingbird
public import Tenanted

// The app integrations of `Tenanted` seen from a request: Hummingbird has no application storage,
// so the app makes each service once (a persist driver, `TenantFiles`, a `TenantBroadcaster`),
// hands it to its routes, and the request context scopes it to the request's tenant.

extension TenantRequestContext {
    /// `driver` seen through the request's tenant: every key is scoped to the tenant
    /// (``TenantPersistDriver``), so two tenants' keys never collide.
    ///
    /// ```swift
    /// let cache = try context.tenantPersist(persist)
    /// try await cache.set(key: "notes-count", value: 42, expires: .seconds(5))
    /// ```
    /// - Throws: ``Tenanted/TenantedError/Code/noTenant`` (a 404) when the request names no tenant.
    public func tenantPersist<Driver: PersistDriver>(_ driver: Driver) throws(TenantedError) -> TenantPersistDriver<Driver> {
        TenantPersistDriver(driver, tenant: try requireTenant())
    }

    /// `files`, for the request's tenant: its reads and writes go to the tenant's own folder
    /// (``Tenanted/TenantFiles`` follows the tenant scope ``TenantMiddleware`` runs the route in).
    ///
    /// ```swift
    /// let files = try TenantFiles(root: "storage/tenants/%{tenant}/files")
    /// router.put("files/:name") { request, context in
    ///     let name = try context.parameters.require("name")
    ///     let size = try await context.tenantFiles(files).write(name, chunks: request.body.map { Array($0.readableBytesView) })
    ///     return "\(size)"
    /// }
    /// ```
    ///
    /// A bad file name is ``Tenanted/TenantedError/Code/badFileName`` (a 400), an absent file
    /// ``Tenanted/TenantedError/Code/fileNotFound`` (a 404).
    /// - Throws: ``Tenanted/TenantedError/Code/noTenant`` (a 404) when the request names no tenant,
    ///   or when the route runs outside the request's tenant scope (a detached task), where the
    ///   files would have no tenant.
    public func tenantFiles(_ files: TenantFiles) throws(TenantedError) -> TenantFiles {
        try requireTenantScope()
        return files
    }

    /// A subscription to the request's tenant's messages on `broadcaster`; it ends when the tenant is
    /// closed (destroyed, with ``Tenanted/TenantBroadcaster/closeOnDestroy(_:)``). Works in a WebSocket
    /// handler too (`context.requestContext`), after the upgrade.
    ///
    /// ```swift
    /// router.tenantWebSocket("live", tenancy: tenancy) { inbound, outbound, context in
    ///     let updates = try context.requestContext.subscribe(to: broadcaster)
    ///     await outbound.relay(updates, inbound: inbound)
    /// }
    /// ```
    /// - Throws: ``Tenanted/TenantedError/Code/noTenant`` (a 404) when the request names no tenant.
    public func subscribe<Message: Sendable>(to broadcaster: TenantBroadcaster<Message>) throws(TenantedError) -> AsyncStream<Message> {
        broadcaster.subscribe(to: try requireTenant())
    }

    /// Sends `message` to every subscription of the request's tenant on `broadcaster`, and no other
    /// tenant's; returns how many there were.
    /// - Throws: ``Tenanted/TenantedError/Code/noTenant`` (a 404) when the request names no tenant.
    @discardableResult
    public func publish<Message: Sendable>(_ message: Message, on broadcaster: TenantBroadcaster<Message>) throws(TenantedError) -> Int {
        broadcaster.publish(message, to: try requireTenant())
    }

    /// Checks that the code runs inside the request's own tenant scope.
    func requireTenantScope() throws(TenantedError) {
        let tenant = try requireTenant()
        guard Tenant.current == tenant else {
            throw TenantedError(.noTenant, "this code runs outside the request's tenant scope (a detached task?)", tenant: tenant)
        }
    }
}
