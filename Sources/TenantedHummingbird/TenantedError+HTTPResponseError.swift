import Foundation
public import Hummingbird
public import Tenanted

extension TenantedError: HTTPResponseError {
    /// 404 for `noTenant`, `tenantNotFound`, `badTenantName`, `wrongTenant` and `badReference` (to a
    /// client, a tenant or record it cannot reach does not exist); 404 for `fileNotFound` and 400
    /// for `badFileName` (a tenant file); 503 for `pendingMigrations`, `poolLimitReached` and
    /// `shutdown`; 500 otherwise. The same mapping as TenantedVapor's.
    public var status: HTTPResponse.Status {
        switch httpStatusCode {
        case 400: .badRequest
        case 404: .notFound
        case 503: .serviceUnavailable
        default: .internalServerError
        }
    }

    /// `{"error": "<reason>"}` with ``status``: `"tenant not found"` for the 404s, the status's
    /// reason phrase otherwise. No tenant name, path or server message reaches the client.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        Self.jsonResponse(status: status, message: httpReason ?? status.reasonPhrase)
    }

    /// A response with `{"error": message}`; `message` is one of ours, never client input.
    static func jsonResponse(status: HTTPResponse.Status, message: String) -> Response {
        let escaped = message.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: "{\"error\":\"\(escaped)\"}"))
        )
    }
}
