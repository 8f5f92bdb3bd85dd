public import Tenanted
public import Vapor

extension Application.TenantedSupport {
    struct FilesKey: StorageKey {
        typealias Value = TenantFiles
    }

    /// The tenant file storage `req.tenantFiles` uses. Set it once at configuration, and let the
    /// tenancy remove a tenant's files when it is destroyed:
    ///
    /// ```swift
    /// let files = try TenantFiles(root: "storage/tenants/%{tenant}/files")
    /// var configuration = Tenancy.Configuration()
    /// files.removeOnDestroy(&configuration.hooks)
    /// let tenancy = try Tenancy(store: store, migrations: migrations, configuration: configuration)
    /// try app.tenanted.use(tenancy)
    /// app.tenanted.files = files
    /// ```
    public var files: TenantFiles? {
        get { application.storage[FilesKey.self] }
        nonmutating set { application.storage[FilesKey.self] = newValue }
    }
}

extension Request {
    /// The request's tenant's files (``Tenanted/TenantFiles``), for use inside the request's tenant
    /// scope (behind ``TenantMiddleware``).
    /// - Throws: ``Tenanted/TenantedError/Code/invalidConfiguration`` when `app.tenanted.files` is not set.
    public var tenantFiles: TenantFiles {
        get throws {
            guard let files = application.tenanted.files else {
                throw TenantedError(.invalidConfiguration, "no tenant file storage; set app.tenanted.files")
            }
            return files
        }
    }
}
