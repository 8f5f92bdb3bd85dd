import Foundation
public import Logging
public import Tenanted

/// A small web console for operators: the tenants of one ``Tenancy``, its pools in this process, and
/// the actions migrate, suspend, resume and destroy.
///
/// It is neutral: it takes an ``AdminRequest`` and returns an ``AdminResponse``, and each framework
/// wing mounts it in a few lines (`app.tenanted.mountAdmin(_:)` in Vapor,
/// `router.addAdminConsole(_:)` in Hummingbird). Pages are server-rendered HTML with their own small
/// stylesheet and no script; every action is a `POST` carrying a CSRF token; `GET` changes nothing.
///
/// Access: a login form takes the operators' token (``Configuration/token``) and sets a signed
/// `HttpOnly`, `SameSite=Strict` session cookie limited to the mount path. Sessions are stateless
/// (an HMAC of their expiry under a key derived from the token), so every process of a deployment
/// configured with the same token accepts them; changing the token ends every session.
///
/// The console never answers on a tenant's host: a request the tenant middleware resolved to a
/// tenant gets 404, as does any path the console does not know.
public struct AdminConsole: Sendable {
    /// The largest form body read, in bytes.
    public static let maximumBodySize = 16 * 1024

    /// The tenancy shown and acted on.
    public let tenancy: Tenancy
    /// The configuration in force.
    public let configuration: Configuration
    let sessions: AdminSessions
    let logger: Logger
    let clock: @Sendable () -> Int64

    /// - Parameters:
    ///   - tenancy: the tenancy to show and act on.
    ///   - configuration: the token, the mount path and the page size.
    ///   - logger: where refused logins and actions are logged (never with the token).
    public init(tenancy: Tenancy, configuration: Configuration, logger: Logger = Logger(label: "tenanted.admin")) {
        self.init(tenancy: tenancy, configuration: configuration, logger: logger, clock: Self.secondsSince1970)
    }

    init(tenancy: Tenancy, configuration: Configuration, logger: Logger, clock: @escaping @Sendable () -> Int64) {
        self.tenancy = tenancy
        self.configuration = configuration
        self.sessions = AdminSessions(token: configuration.token, lifetime: configuration.sessionLifetime)
        self.logger = logger
        self.clock = clock
    }

    /// Answers one request. Never throws: failures become error pages with the fitting status.
    public func respond(to request: AdminRequest) async -> AdminResponse {
        guard !request.isTenantRequest, let route = route(request.path) else { return notFound() }
        var response = await respond(to: request, route: route)
        if request.method == "HEAD" { response.body = "" }
        response.headers += Self.securityHeaders
        return response
    }

    // MARK: Routing

    enum Route: Equatable {
        case overview, login, logout, tenants
        case tenant(String)
        case action(String, String)
    }

    /// The route below the mount path, or `nil` outside it.
    func route(_ path: String) -> Route? {
        let mount = configuration.mountPath
        guard path.hasPrefix(mount) else { return nil }
        let rest = path.dropFirst(mount.count)
        if rest.isEmpty || rest == "/" { return .overview }
        guard rest.hasPrefix("/") else { return nil }
        let segments = rest.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        switch segments.count {
        case 1 where segments[0] == "login": return .login
        case 1 where segments[0] == "logout": return .logout
        case 1 where segments[0] == "tenants": return .tenants
        case 2 where segments[0] == "tenants" && !segments[1].isEmpty: return .tenant(segments[1])
        case 3 where segments[0] == "tenants" && !segments[1].isEmpty: return .action(segments[1], segments[2])
        default: return nil
        }
    }

    private func respond(to request: AdminRequest, route: Route) async -> AdminResponse {
        let isRead = request.method == "GET" || request.method == "HEAD"
        if route == .login {
            if isRead { return page(status: 200, title: "Sign in", session: nil, body: Pages.login(error: nil, mount: configuration.mountPath)) }
            guard request.method == "POST" else { return methodNotAllowed("GET, HEAD, POST") }
            return login(request)
        }
        guard let session = validSession(request) else {
            return page(status: 401, title: "Sign in", session: nil, body: Pages.login(error: nil, mount: configuration.mountPath))
        }
        switch route {
        case .overview, .tenants, .tenant:
            guard isRead else { return methodNotAllowed("GET, HEAD") }
        case .logout, .action:
            guard request.method == "POST" else { return methodNotAllowed("POST") }
            guard let form = formFields(request), let csrf = form["csrf"], sessions.isCSRFToken(csrf, for: session) else {
                logger.warning("admin action refused: missing or wrong CSRF token")
                return page(status: 403, title: "Refused", session: session, body: Pages.message("This form has expired or did not come from this console. Go back, reload the page and try again.", mount: configuration.mountPath))
            }
            if route == .logout { return logout() }
            if case .action(let name, let action) = route { return await act(action, on: name, form: form, session: session) }
        case .login:
            break
        }
        let query = FormDecoding.fields(request.query ?? "")
        switch route {
        case .overview: return await overview(session: session)
        case .tenants: return await tenantList(query: query, session: session)
        case .tenant(let name): return await tenantPage(name, notice: query["notice"], session: session)
        default: return notFound()
        }
    }

    // MARK: Sessions

    private func validSession(_ request: AdminRequest) -> String? {
        guard let session = FormDecoding.cookie(AdminSessions.cookieName, in: request.cookie), sessions.isValid(session, now: clock()) else { return nil }
        return session
    }

    private func formFields(_ request: AdminRequest) -> [String: String]? {
        guard request.body.count <= Self.maximumBodySize,
            (request.contentType ?? "").lowercased().hasPrefix("application/x-www-form-urlencoded"),
            let text = String(validating: request.body, as: UTF8.self)
        else { return nil }
        return FormDecoding.fields(text)
    }

    private func login(_ request: AdminRequest) -> AdminResponse {
        guard let form = formFields(request), let token = form["token"], sessions.isToken(token) else {
            // Never the token, nor what was typed.
            logger.warning("admin login refused: wrong token")
            return page(status: 401, title: "Sign in", session: nil, body: Pages.login(error: "That token is not right.", mount: configuration.mountPath))
        }
        logger.info("admin login")
        let session = sessions.issue(now: clock())
        let maxAge = configuration.sessionLifetime.components.seconds
        return AdminResponse(status: 303, headers: [
            ("Location", configuration.mountPath),
            ("Set-Cookie", "\(AdminSessions.cookieName)=\(session); Path=\(configuration.mountPath); Max-Age=\(maxAge); HttpOnly; SameSite=Strict"),
        ])
    }

    private func logout() -> AdminResponse {
        AdminResponse(status: 303, headers: [
            ("Location", configuration.mountPath + "/login"),
            ("Set-Cookie", "\(AdminSessions.cookieName)=; Path=\(configuration.mountPath); Max-Age=0; HttpOnly; SameSite=Strict"),
        ])
    }

    // MARK: Responses

    static let securityHeaders: [(name: String, value: String)] = [
        ("Cache-Control", "no-store"),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "no-referrer"),
        ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    ]

    func page(status: Int, title: String, session: String?, body: String) -> AdminResponse {
        let csrf = session.map { sessions.csrfToken(for: $0) }
        return AdminResponse(
            status: status,
            headers: [("Content-Type", "text/html; charset=utf-8")],
            body: Pages.document(title: title, mount: configuration.mountPath, csrf: csrf, content: body)
        )
    }

    func notFound() -> AdminResponse {
        AdminResponse(status: 404, headers: [("Content-Type", "text/plain; charset=utf-8")] + Self.securityHeaders, body: "Not Found\n")
    }

    private func methodNotAllowed(_ allowed: String) -> AdminResponse {
        AdminResponse(status: 405, headers: [("Allow", allowed), ("Content-Type", "text/plain; charset=utf-8")], body: "Method Not Allowed\n")
    }

    private static func secondsSince1970() -> Int64 {
        // ContinuousClock has no epoch; the session expiry needs wall time shared by every process.
        Int64(Date().timeIntervalSince1970)
    }
}
