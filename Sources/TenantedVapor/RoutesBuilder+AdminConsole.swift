public import TenantedAdmin
public import Vapor
import Tenanted

extension RoutesBuilder {
    /// Serves `console` at its mount path (`/admin` by default): `GET`, `HEAD` and `POST` on the path
    /// and below it go to the console, which answers 404 for requests on a tenant's host and for paths
    /// it does not know.
    ///
    /// Add it to a group behind ``TenantMiddleware``, so that the console can tell a tenant's host
    /// from the bare domain:
    ///
    /// ```swift
    /// let tenanted = app.grouped(TenantMiddleware(resolver: try .subdomain(of: "example.com")))
    /// if let configuration = try AdminConsole.Configuration.fromEnvironment(ProcessInfo.processInfo.environment) {
    ///     tenanted.addAdminConsole(AdminConsole(tenancy: tenancy, configuration: configuration))
    /// }
    /// ```
    public func addAdminConsole(_ console: AdminConsole) {
        let components = console.configuration.mountPath.split(separator: "/").map { PathComponent.constant(String($0)) }
        let handler: @Sendable (Request) async throws -> Response = { request in
            try await VaporAdminAdapter.respond(request, with: console)
        }
        for method in [HTTPMethod.GET, .HEAD, .POST] {
            on(method, components, body: .collect(maxSize: ByteCount(value: AdminConsole.maximumBodySize)), use: handler)
            on(method, components + [.catchall], body: .collect(maxSize: ByteCount(value: AdminConsole.maximumBodySize)), use: handler)
        }
    }

}

/// Turns Vapor requests into ``AdminRequest``s and the console's answers into responses.
enum VaporAdminAdapter {
    static func respond(_ request: Request, with console: AdminConsole) async throws -> Response {
        let body = request.body.data.map { Array($0.readableBytesView) } ?? []
        let adminRequest = AdminRequest(
            method: request.method.rawValue,
            path: request.url.path,
            query: request.url.query,
            cookie: request.headers.first(name: .cookie),
            contentType: request.headers.first(name: .contentType),
            body: body,
            isTenantRequest: Tenant.current != nil
        )
        let answer = await console.respond(to: adminRequest)
        var headers = HTTPHeaders()
        for header in answer.headers { headers.add(name: header.name, value: header.value) }
        return Response(status: .init(statusCode: answer.status), headers: headers, body: .init(string: answer.body))
    }
}
