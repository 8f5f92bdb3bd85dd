import Foundation
import Tenanted
import TenantedSQLite
@testable import TenantedAdmin
import TenantedTestSupport
import Testing

@Suite("Admin console: pages, sign-in, CSRF and escaping")
struct AdminConsoleTests {
    @Test("configuration: short, spaced or control-character tokens, bad mount paths, lifetimes and page sizes are refused")
    func badConfiguration() throws {
        for token in ["", "short", String(repeating: "a", count: 15), "sixteen chars ok but spaced", "tab\there-sixteen-chars", "nul\0-sixteen-chars-xx", "ünïcödé-sixteen-chars"] {
            #expect(throws: TenantedError.self, "token \(token.debugDescription)") { try AdminConsole.Configuration(token: token) }
        }
        for mount in ["", "/", "admin", "/admin/", "//admin", "/ad min", "/admin/../x", "/a%2Fb", "/admin?x"] {
            #expect(throws: TenantedError.self, "mount \(mount.debugDescription)") {
                try AdminConsole.Configuration(token: AdminFixture.token, mountPath: mount)
            }
        }
        #expect(throws: TenantedError.self) { try AdminConsole.Configuration(token: AdminFixture.token, sessionLifetime: .seconds(59)) }
        #expect(throws: TenantedError.self) { try AdminConsole.Configuration(token: AdminFixture.token, pageSize: 0) }
        #expect(throws: TenantedError.self) { try AdminConsole.Configuration(token: AdminFixture.token, pageSize: 1000) }
        #expect(try AdminConsole.Configuration(token: AdminFixture.token, mountPath: "/ops/tenant-admin").mountPath == "/ops/tenant-admin")

        #expect(try AdminConsole.Configuration.fromEnvironment([:]) == nil)
        #expect(try AdminConsole.Configuration.fromEnvironment(["TENANTED_ADMIN_TOKEN": ""]) == nil)
        #expect(try AdminConsole.Configuration.fromEnvironment(["TENANTED_ADMIN_TOKEN": AdminFixture.token])?.token == AdminFixture.token)
        let error = #expect(throws: TenantedError.self) { try AdminConsole.Configuration.fromEnvironment(["TENANTED_ADMIN_TOKEN": "tooshort"]) }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.message.hasPrefix("TENANTED_ADMIN_TOKEN: ") == true)
        #expect(error?.message.contains("tooshort") == false)
        let moved = try AdminConsole.Configuration.fromEnvironment(["TENANTED_ADMIN_TOKEN": AdminFixture.token, "TENANTED_ADMIN_PATH": "/ops/admin"])
        #expect(moved?.mountPath == "/ops/admin")
        for path in ["admin", "/admin/", "/a b", "/../x"] {
            let bad = #expect(throws: TenantedError.self) {
                try AdminConsole.Configuration.fromEnvironment(["TENANTED_ADMIN_TOKEN": AdminFixture.token, "TENANTED_ADMIN_PATH": path])
            }
            #expect(bad?.message.hasPrefix("TENANTED_ADMIN_PATH: ") == true)
        }
    }

    @Test("a console mounted elsewhere serves there only, and its cookie is limited to that path")
    func otherMountPath() async throws {
        let directory = try TemporaryDirectory()
        let tenancy = try Tenancy(store: try SQLiteStore(configuration: .init(root: directory.path, logger: .silent)), logger: .silent)
        let console = AdminConsole(tenancy: tenancy, configuration: try .init(token: AdminFixture.token, mountPath: "/ops/admin"))
        #expect(await console.respond(to: AdminRequest(method: "GET", path: "/admin", isTenantRequest: false)).status == 404)
        let login = await console.respond(to: AdminRequest(method: "GET", path: "/ops/admin", isTenantRequest: false))
        #expect(login.status == 401)
        #expect(login.body.contains("action=\"/ops/admin/login\""))
        let signedIn = await console.respond(to: AdminRequest(
            method: "POST", path: "/ops/admin/login", contentType: "application/x-www-form-urlencoded",
            body: Array("token=\(AdminFixture.token)".utf8), isTenantRequest: false
        ))
        #expect(signedIn.header("Location") == "/ops/admin")
        #expect(signedIn.header("Set-Cookie")?.contains("; Path=/ops/admin;") == true)
        await tenancy.shutdown()
    }

    @Test("unknown paths, paths outside the mount and any request on a tenant's host are 404, signed in or not")
    func notFound() async throws {
        let fixture = try AdminFixture()
        let session = try await fixture.signIn()
        for path in ["/", "/adminx", "/admin/nope", "/admin/tenants/a/b/c", "/admin//tenants", "/notes"] {
            #expect(await fixture.get(path, session: session).status == 404, "\(path)")
        }
        for path in ["/admin", "/admin/tenants", "/admin/login"] {
            let response = await fixture.get(path, session: session, tenantRequest: true)
            #expect(response.status == 404, "\(path) on a tenant's host")
            #expect(!response.body.contains("Tenanted admin"))
        }
        await fixture.shutdown()
    }

    @Test("without a valid session every page is 401 with the sign-in form; forged, foreign and expired sessions are refused")
    func signInRequired() async throws {
        let clock = Locked<Int64>(1_800_000_000)
        let fixture = try AdminFixture(now: { clock.value })
        try await fixture.tenancy.createTenant(TenantID("acme"))
        for path in ["/admin", "/admin/tenants", "/admin/tenants/acme"] {
            let response = await fixture.get(path)
            #expect(response.status == 401, "\(path)")
            #expect(response.body.contains("name=\"token\""))
            #expect(!response.body.contains("acme"))
        }
        let action = await fixture.post("/admin/tenants/acme/suspend", form: [("csrf", "x"), ("reason", "r")], session: nil)
        #expect(action.status == 401)
        #expect(try await fixture.tenancy.suspension(of: TenantID("acme")) == nil)

        let session = try await fixture.signIn()
        #expect(await fixture.get("/admin", session: session).status == 200)
        // Tampered: another expiry under the old signature; another signature; garbage.
        let parts = session.split(separator: ".")
        let later = "v1.\(Int64(parts[1])! + 999_999).\(parts[2]).\(parts[3])"
        for forged in [later, String(session.dropLast()) + (session.last == "a" ? "b" : "a"), "v1.1.2.3", "", "v1"] {
            #expect(await fixture.get("/admin", session: forged).status == 401, "\(forged)")
        }
        // A session of another token (another deployment) is refused.
        let other = AdminSessions(token: "another-token-of-sixteen", lifetime: .seconds(3600)).issue(now: clock.value)
        #expect(await fixture.get("/admin", session: other).status == 401)
        // Expiry: still valid just before, refused after.
        clock.withLock { $0 += 12 * 3600 - 1 }
        #expect(await fixture.get("/admin", session: session).status == 200)
        clock.withLock { $0 += 2 }
        #expect(await fixture.get("/admin", session: session).status == 401)
        await fixture.shutdown()
    }

    @Test("sign-in: a wrong token is 401 and logged without the token; the right one sets a strict HttpOnly cookie on the mount path")
    func signIn() async throws {
        let fixture = try AdminFixture()
        for wrong in ["wrong-token-but-long-enough", AdminFixture.token + "x", String(AdminFixture.token.dropLast()), ""] {
            let response = await fixture.post("/admin/login", form: [("token", wrong)], session: nil)
            #expect(response.status == 401)
            #expect(response.header("Set-Cookie") == nil)
            #expect(response.body.contains("That token is not right."))
        }
        #expect(await fixture.post("/admin/login", form: [], session: nil).status == 401)
        let refusals = fixture.logs.all.filter { $0.contains("admin login refused") }
        #expect(refusals.count == 5)
        #expect(!fixture.logs.all.contains { $0.contains("wrong-token") || $0.contains(AdminFixture.token) })

        let response = await fixture.post("/admin/login", form: [("token", AdminFixture.token)], session: nil)
        #expect(response.status == 303)
        #expect(response.header("Location") == "/admin")
        let cookie = try #require(response.header("Set-Cookie"))
        #expect(cookie.hasPrefix("tenanted_admin=v1."))
        for attribute in ["HttpOnly", "SameSite=Strict", "Path=/admin", "Max-Age=43200"] {
            #expect(cookie.contains("; \(attribute)"), "\(attribute)")
        }
        #expect(!cookie.contains(AdminFixture.token))
        await fixture.shutdown()
    }

    @Test("every page carries no-store, nosniff, DENY framing and a script-free content policy; HEAD has no body; GET never acts")
    func headersAndMethods() async throws {
        let fixture = try AdminFixture()
        try await fixture.tenancy.createTenant(TenantID("acme"))
        let session = try await fixture.signIn()
        for path in ["/admin", "/admin/tenants", "/admin/tenants/acme", "/admin/login"] {
            let response = await fixture.get(path, session: session)
            #expect(response.status == 200, "\(path)")
            #expect(response.header("Cache-Control") == "no-store")
            #expect(response.header("X-Content-Type-Options") == "nosniff")
            #expect(response.header("X-Frame-Options") == "DENY")
            #expect(response.header("Content-Security-Policy")?.contains("default-src 'none'") == true)
            #expect(response.header("Content-Type") == "text/html; charset=utf-8")
            #expect(!response.body.contains("<script"))
            #expect(!response.body.contains("http://") && !response.body.contains("https://"), "no external assets")
        }
        let head = await fixture.console.respond(to: AdminRequest(method: "HEAD", path: "/admin", cookie: "tenanted_admin=\(session)", isTenantRequest: false))
        #expect(head.status == 200 && head.body.isEmpty)
        for action in ["suspend", "destroy", "migrate", "resume"] {
            #expect(await fixture.get("/admin/tenants/acme/\(action)", session: session).status == 405)
        }
        let delete = await fixture.console.respond(to: AdminRequest(method: "DELETE", path: "/admin/tenants/acme", cookie: "tenanted_admin=\(session)", isTenantRequest: false))
        #expect(delete.status == 405)
        #expect(try await fixture.tenancy.tenantExists(TenantID("acme")))
        #expect(try await fixture.tenancy.suspension(of: TenantID("acme")) == nil)
        await fixture.shutdown()
    }

    @Test("actions without the session's CSRF token are 403 and change nothing")
    func csrf() async throws {
        let fixture = try AdminFixture()
        let acme = try TenantID("acme")
        try await fixture.tenancy.createTenant(acme)
        let session = try await fixture.signIn()
        let otherSession = try await fixture.signIn()
        let page = await fixture.get("/admin/tenants/acme", session: session)
        let token = try #require(AdminFixture.csrf(in: page))
        let foreign = try #require(AdminFixture.csrf(in: await fixture.get("/admin/tenants/acme", session: otherSession)))
        #expect(token != foreign)
        for form in [[("reason", "x")], [("csrf", ""), ("reason", "x")], [("csrf", foreign), ("reason", "x")], [("csrf", String(token.dropLast())), ("reason", "x")]] {
            #expect(await fixture.post("/admin/tenants/acme/suspend", form: form, session: session).status == 403)
            #expect(await fixture.post("/admin/tenants/acme/destroy", form: form + [("confirm", "acme")], session: session).status == 403)
        }
        // A form body of another type is not read.
        let json = await fixture.console.respond(to: AdminRequest(
            method: "POST", path: "/admin/tenants/acme/suspend", cookie: "tenanted_admin=\(session)", contentType: "application/json",
            body: Array("{\"csrf\":\"\(token)\"}".utf8), isTenantRequest: false
        ))
        #expect(json.status == 403)
        #expect(try await fixture.tenancy.suspension(of: acme) == nil)
        #expect(try await fixture.tenancy.tenantExists(acme))
        #expect(await fixture.post("/admin/logout", form: [], session: session).status == 403)
        await fixture.shutdown()
    }

    @Test("suspend with a script as its reason renders it as text; resume; the tenant's status follows")
    func suspendAndResume() async throws {
        let fixture = try AdminFixture()
        let acme = try TenantID("acme")
        try await fixture.tenancy.createTenant(acme)
        let session = try await fixture.signIn()
        let token = try #require(AdminFixture.csrf(in: await fixture.get("/admin/tenants/acme", session: session)))
        let reason = "<script>alert(1)</script> & \"quotes\""
        let suspended = await fixture.post("/admin/tenants/acme/suspend", form: [("csrf", token), ("reason", reason)], session: session)
        #expect(suspended.status == 303)
        #expect(suspended.header("Location") == "/admin/tenants/acme?notice=suspended")
        #expect(try await fixture.tenancy.suspension(of: acme)?.reason == reason)
        let page = await fixture.get("/admin/tenants/acme", query: "notice=suspended", session: session)
        #expect(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;"))
        #expect(!page.body.contains("<script>"))
        #expect(page.body.contains("suspended</span>"))
        #expect(page.body.contains("Suspended: the tenant"))
        #expect(page.body.contains("id=\"resume\""))
        let list = await fixture.get("/admin/tenants", session: session)
        #expect(list.body.contains("suspended</span>"))

        #expect(await fixture.post("/admin/tenants/acme/resume", form: [("csrf", token)], session: session).status == 303)
        #expect(try await fixture.tenancy.suspension(of: acme) == nil)
        #expect(await fixture.get("/admin/tenants/acme", session: session).body.contains("active</span>"))
        // A notice outside the fixed set shows nothing of itself.
        let injected = await fixture.get("/admin/tenants/acme", query: "notice=%3Cb%3Ehi", session: session)
        #expect(!injected.body.contains("<b>hi") && !injected.body.contains("&lt;b&gt;hi"))
        await fixture.shutdown()
    }

    @Test("destroy needs the tenant's name typed again: a wrong or missing name is 400 and destroys nothing")
    func destroy() async throws {
        let fixture = try AdminFixture()
        let acme = try TenantID("acme")
        try await fixture.tenancy.createTenant(acme)
        let session = try await fixture.signIn()
        let token = try #require(AdminFixture.csrf(in: await fixture.get("/admin/tenants/acme", session: session)))
        for confirm in [nil, "", "ACME", "acm", "acme ", "globex"] as [String?] {
            let form = [("csrf", token)] + (confirm.map { [("confirm", $0)] } ?? [])
            let response = await fixture.post("/admin/tenants/acme/destroy", form: form, session: session)
            #expect(response.status == 400, "\(confirm.debugDescription)")
            #expect(try await fixture.tenancy.tenantExists(acme))
        }
        let destroyed = await fixture.post("/admin/tenants/acme/destroy", form: [("csrf", token), ("confirm", "acme")], session: session)
        #expect(destroyed.status == 303)
        #expect(destroyed.header("Location") == "/admin/tenants?notice=destroyed")
        #expect(try await !fixture.tenancy.tenantExists(acme))
        #expect(await fixture.get("/admin/tenants/acme", session: session).status == 404)
        // Actions on unknown or invalid tenants, and unknown actions.
        #expect(await fixture.post("/admin/tenants/acme/suspend", form: [("csrf", token)], session: session).status == 404)
        #expect(await fixture.post("/admin/tenants/..%2F/suspend", form: [("csrf", token)], session: session).status == 404)
        #expect(await fixture.post("/admin/tenants/acme/explode", form: [("csrf", token)], session: session).status == 404)
        await fixture.shutdown()
    }

    @Test("a tenant with a pending migration shows it; migrate applies it")
    func migrate() async throws {
        let directory = try TemporaryDirectory()
        let old = try AdminFixture(migrator: AdminFixture.v1, directory: directory)
        try await old.tenancy.createTenant(TenantID("acme"))
        await old.shutdown()
        let fixture = try AdminFixture(migrator: AdminFixture.v2, directory: directory)
        let session = try await fixture.signIn()
        let page = await fixture.get("/admin/tenants/acme", session: session)
        #expect(page.body.contains("<dt>Applied</dt><dd>001_notes</dd><dt>Pending</dt><dd>002_tags</dd>"))
        #expect(await fixture.get("/admin/tenants", session: session).body.contains("1 pending"))
        let token = try #require(AdminFixture.csrf(in: page))
        #expect(await fixture.post("/admin/tenants/acme/migrate", form: [("csrf", token)], session: session).status == 303)
        let after = await fixture.get("/admin/tenants/acme", session: session)
        #expect(after.body.contains("<dt>Applied</dt><dd>001_notes, 002_tags</dd><dt>Pending</dt><dd>none</dd>"))
        await fixture.shutdown()
    }

    @Test("250 tenants page through in pages of 100, forward and back; a prefix search narrows them; bad paging input is 400")
    func paging() async throws {
        let fixture = try AdminFixture()
        let names = (0..<250).map { String(format: "t%03d", $0) }
        for name in names { try await fixture.tenancy.createTenant(TenantID(name)) }
        let session = try await fixture.signIn()

        func rows(_ response: AdminResponse) -> [String] {
            response.body.components(separatedBy: "<tr><td><a href=\"/admin/tenants/").dropFirst().map { String($0.prefix { $0 != "\"" }) }
        }
        func link(_ id: String, in response: AdminResponse) -> String? {
            guard let range = response.body.range(of: "id=\"\(id)\" href=\"/admin/tenants?") else { return nil }
            return String(response.body[range.upperBound...].prefix { $0 != "\"" })
        }
        let first = await fixture.get("/admin/tenants", session: session)
        #expect(rows(first) == Array(names[0..<100]))
        #expect(link("previous", in: first) == nil)
        let second = await fixture.get("/admin/tenants", query: try #require(link("next", in: first)) as String, session: session)
        #expect(rows(second) == Array(names[100..<200]))
        let third = await fixture.get("/admin/tenants", query: try #require(link("next", in: second)) as String, session: session)
        #expect(rows(third) == Array(names[200..<250]))
        #expect(link("next", in: third) == nil)
        let back = await fixture.get("/admin/tenants", query: try #require(link("previous", in: third)) as String, session: session)
        #expect(rows(back) == Array(names[100..<200]))
        let start = await fixture.get("/admin/tenants", query: try #require(link("previous", in: back)) as String, session: session)
        #expect(rows(start) == Array(names[0..<100]))
        #expect(link("previous", in: start) == nil)

        let search = await fixture.get("/admin/tenants", query: "prefix=t24", session: session)
        #expect(rows(search) == (240..<250).map { String(format: "t%03d", $0) })
        #expect(search.body.contains("value=\"t24\""))
        let none = await fixture.get("/admin/tenants", query: "prefix=zz", session: session)
        #expect(none.body.contains("No tenants."))

        for query in ["prefix=%3Cscript%3E", "prefix=-x", "prefix=" + String(repeating: "a", count: 64), "after=..", "before=A", "after=a&before=b", "after=%00"] {
            let response = await fixture.get("/admin/tenants", query: query, session: session)
            #expect(response.status == 400, "\(query)")
            #expect(!response.body.contains("<script>"))
        }
        let overview = await fixture.get("/admin", session: session)
        #expect(overview.body.contains("Tenants<b>250</b>"))
        #expect(overview.body.contains("Store<b>sqlite</b>"))
        await fixture.shutdown()
    }

    @Test("the overview counts this process's pools: open against the cap, leased, opens since start")
    func overviewPools() async throws {
        let fixture = try AdminFixture()
        let acme = try TenantID("acme")
        try await fixture.tenancy.createTenant(acme)
        try await fixture.tenancy.createTenant(TenantID("globex"))
        let session = try await fixture.signIn()
        try await fixture.tenancy.withTenant(acme) {
            let overview = await fixture.get("/admin", session: session)
            #expect(overview.body.contains("Leased pools<b>1</b>"))
            #expect(overview.body.contains("Open pools<b>1 / 50</b>"))
            let tenant = await fixture.get("/admin/tenants/acme", session: session)
            #expect(tenant.body.contains("leased (1)"))
        }
        let idle = await fixture.get("/admin/tenants/acme", session: session)
        #expect(idle.body.contains("open, idle, last used"))
        #expect(await fixture.get("/admin/tenants/globex", session: session).body.contains("<dt>Pool</dt><dd>closed</dd>"))
        let snapshot = fixture.tenancy.pools.snapshot
        #expect(snapshot.opensSinceStart == 1 && snapshot.leased == 0 && snapshot.idle == 1)
        await fixture.shutdown()
    }
}
