public import Hummingbird
public import TenantedAdmin
import HTTPTypes
import Tenanted

extension RouterMethods {
    /// Serves `console` at its mount path (`/admin` by default) and below: `GET`, `HEAD` and `POST`
    /// go to the console, which answers 404 for requests on a tenant's host and for paths it does not
    /// know.
    ///
    /// Add it to a group behind ``TenantMiddleware``, so that the console can tell a tenant's host
    /// from the bare domain:
    ///
    /// ```swift
    /// if let configuration = try AdminConsole.Configuration.fromEnvironment(ProcessInfo.processInfo.environment) {
    ///     router.group()
    ///         .add(middleware: TenantMiddleware(tenancy: tenancy, resolver: try .subdomain(of: "example.com")))
    ///         .addAdminConsole(AdminConsole(tenancy: tenancy, configuration: configuration))
    /// }
    /// ```
    @discardableResult
    public func addAdminConsole(_ console: AdminConsole) -> Self {
        let mount = console.configuration.mountPath
        let handler: @Sendable (Request, Context) async throws -> Response = { request, _ in
            try await HummingbirdAdminAdapter.respond(request, with: console)
        }
        for method in [HTTPRequest.Method.get, .head, .post] {
            on(RouterPath(mount), method: method, use: handler)
            on(RouterPath(mount + "/**"), method: method, use: handler)
        }
        return self
    }

}

/// Turns Hummingbird requests into ``AdminRequest``s and the console's answers into responses.
enum HummingbirdAdminAdapter {
    static func respond(_ request: Request, with console: AdminConsole) async throws -> Response {
        let body: [UInt8]
        do {
            body = Array(buffer: try await request.body.collect(upTo: AdminConsole.maximumBodySize))
        } catch {
            return Response(status: .contentTooLarge)
        }
        let adminRequest = AdminRequest(
            method: request.method.rawValue,
            path: request.uri.path,
            query: request.uri.query,
            cookie: request.headers[.cookie],
            contentType: request.headers[.contentType],
            body: body,
            isTenantRequest: Tenant.current != nil
        )
        let answer = await console.respond(to: adminRequest)
        var fields = HTTPFields()
        for header in answer.headers {
            if let name = HTTPField.Name(header.name) { fields.append(HTTPField(name: name, value: header.value)) }
        }
        var buffer = ByteBuffer()
        buffer.writeString(answer.body)
        return Response(status: .init(code: answer.status), headers: fields, body: .init(byteBuffer: buffer))
    }
}
