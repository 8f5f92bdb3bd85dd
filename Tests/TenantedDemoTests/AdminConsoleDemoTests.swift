import Foundation
import Tenanted
import TenantedTestSupport
import Testing

/// Issue 20: the admin console as the demos serve it — off without `TENANTED_ADMIN_TOKEN`, on the
/// bare base domain only — and driven by a real browser.
@Suite("Admin console in the demos", .serialized, .enabled(if: Demo.allCases.allSatisfy(\.isBuilt), "build both demos first (scripts/test does)"))
struct AdminConsoleDemoTests {
    static let token = "demo-admin-token-0123456789"

    static func createTenants(_ names: [String], demo: Demo, storage: String) async throws {
        let process = DemoProcess(storage: storage, demo: demo)
        // Four `tenants create` processes at a time.
        for batch in stride(from: 0, to: names.count, by: 4) {
            try await withThrowingTaskGroup(of: (String, DemoProcess.Run).self) { group in
                for name in names[batch..<min(batch + 4, names.count)] {
                    group.addTask { (name, try await process.run(["tenants", "create", name])) }
                }
                for try await (name, run) in group {
                    try #require(run.status == 0, "tenants create \(name): \(run.stderr)")
                }
            }
        }
    }

    /// The session cookie (`name=value`) from a sign-in answer.
    static func sessionCookie(_ response: RawHTTPResponse) -> String? {
        response.header("Set-Cookie")?.split(separator: ";").first.map(String.init)
    }

    @Test("without TENANTED_ADMIN_TOKEN /admin is a 404; with it, sign-in works on the bare domain and a tenant's host is a 404", arguments: Demo.allCases)
    func servedOnlyWhenConfigured(demo: Demo) async throws {
        let directory = try TemporaryDirectory()
        try await Self.createTenants(["acme", "globex"], demo: demo, storage: directory.path)

        let off = try await DemoServerProcess.start(storage: directory.path, demo: demo)
        for path in ["/admin", "/admin/login", "/admin/tenants"] {
            #expect(try await off.request("GET", path, host: "localhost").status == 404, "\(path) without a token")
        }
        #expect(try await RawHTTP.send(port: off.port, method: "POST", path: "/admin/login", host: "localhost",
                                       headers: [("Content-Type", "application/x-www-form-urlencoded")], body: "token=\(Self.token)").status == 404)
        await off.stop()

        let server = try await DemoServerProcess.start(storage: directory.path, environment: ["TENANTED_ADMIN_TOKEN": Self.token], demo: demo)
        let login = try await server.request("GET", "/admin", host: "localhost")
        #expect(login.status == 401)
        #expect(login.body.contains("name=\"token\""))
        for host in ["acme.localhost", "globex.localhost"] {
            #expect(try await server.request("GET", "/admin", host: host).status == 404, "\(host)")
            #expect(try await server.request("GET", "/admin/login", host: host).status == 404, "\(host)")
        }
        // An unknown tenant's host is the tenant middleware's 404.
        #expect(try await server.request("GET", "/admin", host: "nobody.localhost").status == 404)

        let wrong = try await RawHTTP.send(port: server.port, method: "POST", path: "/admin/login", host: "localhost",
                                           headers: [("Content-Type", "application/x-www-form-urlencoded")], body: "token=not-the-token-at-all")
        #expect(wrong.status == 401)
        #expect(wrong.header("Set-Cookie") == nil)
        let signedIn = try await RawHTTP.send(port: server.port, method: "POST", path: "/admin/login", host: "localhost",
                                              headers: [("Content-Type", "application/x-www-form-urlencoded")], body: "token=\(Self.token)")
        #expect(signedIn.status == 303)
        let cookie = try #require(Self.sessionCookie(signedIn))
        let overview = try await RawHTTP.send(port: server.port, path: "/admin", host: "localhost", headers: [("Cookie", cookie)])
        #expect(overview.status == 200)
        #expect(overview.body.contains("Tenants<b>2</b>"))
        #expect(overview.header("Content-Security-Policy")?.contains("default-src 'none'") == true)
        // The session is not valid on a tenant's host either.
        let onTenant = try await RawHTTP.send(port: server.port, path: "/admin", host: "acme.localhost", headers: [("Cookie", cookie)])
        #expect(onTenant.status == 404)
        // (Read before the stop, which removes the log of a clean exit.)
        let log = try String(contentsOfFile: server.logPath, encoding: .utf8)
        #expect(log.contains("admin login refused"))
        #expect(!log.contains("not-the-token-at-all") && !log.contains(Self.token), "tokens never reach the log")
        await server.stop()
    }

    @Test("a token too short to be safe stops the demo with exit status 64 and a message that does not echo it", arguments: Demo.allCases)
    func unusableToken(demo: Demo) async throws {
        let directory = try TemporaryDirectory()
        let run = try await DemoProcess(storage: directory.path, demo: demo).run(
            ["serve", "--port", "\(try DemoServerProcess.freeLoopbackPort())"], environment: ["TENANTED_ADMIN_TOKEN": "short"], killAfter: .seconds(60)
        )
        #expect(!run.killed)
        #expect(run.status == 64)
        #expect(run.stderr.contains("TENANTED_ADMIN_TOKEN"))
        #expect(!run.stderr.contains("short\n") && !run.stderr.contains("'short'"))
    }

    @Test("a real browser signs in, pages through 250 tenants, searches, suspends a tenant (its host answers 503) and resumes it")
    func browser() async throws {
        guard let browser = try await WebDriver.start(windowWidth: 1200, windowHeight: 1400) else {
            print("AdminConsoleDemoTests.browser: skipped: \(WebDriver.unavailableReason ?? "no browser")")
            return
        }
        let directory = try TemporaryDirectory()
        let names = (0..<250).map { String(format: "shop-%03d", $0) }
        do {
            try await Self.createTenants(names, demo: .vapor, storage: directory.path)
            let server = try await DemoServerProcess.start(storage: directory.path, environment: ["TENANTED_ADMIN_TOKEN": Self.token], demo: .vapor)
            do {
                try await run(browser, server: server, names: names)
            } catch {
                await server.stop()
                throw error
            }
            await server.stop()
        } catch {
            await browser.quit()
            throw error
        }
        await browser.quit()
    }

    private func run(_ browser: WebDriver, server: DemoServerProcess, names: [String]) async throws {
        let base = "http://localhost:\(server.port)/admin"
        try await browser.open(base)
        #expect(try await browser.bodyText().contains("Admin token"))
        try await browser.type("not the token", into: "#token")
        try await browser.clickAndWaitForPage("#sign-in")
        #expect(try await browser.bodyText().contains("That token is not right."))
        try await browser.type(Self.token, into: "#token")
        try await browser.clickAndWaitForPage("#sign-in")
        let overview = try await browser.bodyText()
        #expect(overview.contains("Tenants\n250") || overview.contains("Tenants 250") || overview.contains("250"), "\(overview.prefix(400))")
        #expect(try await browser.currentURL() == base)

        // Page through: 100, 100, 50.
        try await browser.open(base + "/tenants")
        func shownNames() async throws -> [String] {
            var shown: [String] = []
            for link in try await browser.elements("#tenants tbody tr td:first-child a") { shown.append(try await browser.text(of: link)) }
            return shown
        }
        #expect(try await shownNames() == Array(names[0..<100]))
        let screenshot = try await browser.screenshot()
        let artifacts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/tenanted-artifacts")
        try FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        try screenshot.write(to: artifacts.appendingPathComponent("admin-tenants.png"))
        #expect(screenshot.starts(with: [0x89, 0x50, 0x4E, 0x47]), "a PNG")
        try await browser.clickAndWaitForPage("#next")
        #expect(try await shownNames() == Array(names[100..<200]))
        try await browser.clickAndWaitForPage("#next")
        #expect(try await shownNames() == Array(names[200..<250]))
        #expect(try await browser.elements("#next").isEmpty)
        try await browser.clickAndWaitForPage("#previous")
        #expect(try await shownNames() == Array(names[100..<200]))

        // Search by prefix.
        try await browser.type("shop-12", into: "#prefix")
        try await browser.clickAndWaitForPage("#search")
        #expect(try await shownNames() == (120..<130).map { String(format: "shop-%03d", $0) })

        // Suspend shop-123 with a reason that is markup; its host answers 503; resume.
        #expect(try await server.request("GET", "/notes", host: "shop-123.localhost").status == 200)
        try await browser.open(base + "/tenants/shop-123")
        let reason = "<b>unpaid</b> invoice"
        try await browser.type(reason, into: "#suspend-reason")
        try await browser.clickAndWaitForPage("#suspend")
        #expect(try await browser.text(of: try await browser.element("#reason")) == reason, "the reason renders as text")
        #expect(try await browser.elements("#reason b").isEmpty)
        let refused = try await server.request("GET", "/notes", host: "shop-123.localhost")
        #expect(refused.status == 503)
        try await browser.open("http://shop-123.localhost:\(server.port)/notes")
        #expect(try await browser.bodyText().contains("tenant suspended for maintenance"))
        #expect(try await server.request("GET", "/notes", host: "shop-124.localhost").status == 200, "other tenants are served")

        try await browser.open(base + "/tenants/shop-123")
        try await browser.clickAndWaitForPage("#resume")
        #expect(try await browser.text(of: try await browser.element("#status")) == "active")
        #expect(try await server.request("GET", "/notes", host: "shop-123.localhost").status == 200)
    }
}
