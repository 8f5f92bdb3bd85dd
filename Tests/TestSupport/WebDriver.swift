package import Foundation

/// A real browser driven over the W3C WebDriver protocol: Debian's `chromium` under `chromedriver`,
/// headless, spoken to with plain HTTP (``RawHTTP``) — no client library.
///
/// ``start()`` returns `nil` when no browser is installed; tests print that and skip.
package final class WebDriver: Sendable {
    package struct Failure: Error, CustomStringConvertible {
        package let description: String
    }

    /// Where Debian installs the two programs (`apt-get install chromium chromium-driver`).
    static let driverCandidates = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
    static let browserCandidates = ["/usr/bin/chromium", "/usr/lib/chromium/chromium"]

    /// Why no browser can be started here, or `nil` when one can.
    package static var unavailableReason: String? {
        if driverPath == nil { return "no chromedriver (apt-get install chromium-driver)" }
        if browserPath == nil { return "no chromium (apt-get install chromium)" }
        return nil
    }

    static var driverPath: String? { driverCandidates.first { FileManager.default.isExecutableFile(atPath: $0) } }
    static var browserPath: String? { browserCandidates.first { FileManager.default.isExecutableFile(atPath: $0) } }

    private let driver: ChildProcess
    private let port: Int
    private let session: String
    private let profile: String

    private init(driver: ChildProcess, port: Int, session: String, profile: String) {
        self.driver = driver
        self.port = port
        self.session = session
        self.profile = profile
    }

    /// Starts chromedriver and a headless browser session, or returns `nil` when none is installed.
    package static func start(windowWidth: Int = 1280, windowHeight: Int = 900) async throws -> WebDriver? {
        guard let driverPath, let browserPath else { return nil }
        let port = try DemoServerProcess.freeLoopbackPort()
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("tenanted-chromium-\(UUID().uuidString)").path
        let driver = try ChildProcess.start(driverPath, arguments: ["--port=\(port)"], directory: FileManager.default.temporaryDirectory.path)
        _ = try await driver.waitForOutput(matching: "started successfully", timeout: .seconds(60))
        let capabilities: [String: Any] = [
            "capabilities": [
                "alwaysMatch": [
                    "browserName": "chrome",
                    "goog:chromeOptions": [
                        "binary": browserPath,
                        "args": [
                            "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                            "--window-size=\(windowWidth),\(windowHeight)", "--user-data-dir=\(profile)",
                            "--no-first-run", "--disable-background-networking", "--disable-extensions",
                        ],
                    ],
                ]
            ]
        ]
        do {
            let answer = try await call(port: port, "POST", "/session", capabilities, timeout: 120)
            guard let value = answer as? [String: Any], let session = value["sessionId"] as? String else {
                throw Failure(description: "no WebDriver session: \(String(describing: answer))")
            }
            return WebDriver(driver: driver, port: port, session: session, profile: profile)
        } catch {
            await driver.stop()
            throw error
        }
    }

    /// Ends the browser session and stops chromedriver.
    package func quit() async {
        _ = try? await Self.call(port: port, "DELETE", "/session/\(session)", nil)
        await driver.stop()
        try? FileManager.default.removeItem(atPath: profile)
    }

    // MARK: Commands

    /// Loads `url` and waits for the page.
    package func open(_ url: String) async throws {
        _ = try await command("POST", "url", ["url": url])
    }

    /// The current page's URL.
    package func currentURL() async throws -> String {
        try await command("GET", "url", nil) as? String ?? ""
    }

    /// The current page's HTML.
    package func source() async throws -> String {
        try await command("GET", "source", nil) as? String ?? ""
    }

    /// The visible text of the page's body.
    package func bodyText() async throws -> String {
        try await text(of: try await element("body"))
    }

    /// The first element matching a CSS selector.
    package func element(_ selector: String) async throws -> String {
        let value = try await command("POST", "element", ["using": "css selector", "value": selector])
        guard let object = value as? [String: Any], let id = object.values.first as? String else {
            throw Failure(description: "no element \(selector)")
        }
        return id
    }

    /// Every element matching a CSS selector.
    package func elements(_ selector: String) async throws -> [String] {
        let value = try await command("POST", "elements", ["using": "css selector", "value": selector])
        return (value as? [[String: Any]] ?? []).compactMap { $0.values.first as? String }
    }

    package func text(of element: String) async throws -> String {
        try await command("GET", "element/\(element)/text", nil) as? String ?? ""
    }

    /// Types `text` into an element.
    package func type(_ text: String, into selector: String) async throws {
        _ = try await command("POST", "element/\(try await element(selector))/value", ["text": text])
    }

    /// Clicks an element.
    package func click(_ selector: String) async throws {
        _ = try await command("POST", "element/\(try await element(selector))/click", [:])
    }

    /// Clicks an element that loads another page (a link, a form's button) and waits until that page
    /// has replaced the current one and finished loading.
    ///
    /// chromedriver's click can return while the navigation it started is still under way: reading
    /// the page right after it may find the old document (whose elements then go stale under the
    /// reader) or a new one without a body yet. Here the old document's root must be gone and the new
    /// one's `readyState` `complete`, within `timeout`.
    package func clickAndWaitForPage(_ selector: String, timeout: Duration = .seconds(60)) async throws {
        let oldRoot = try await element("html")
        try await click(selector)
        let deadline = ContinuousClock.now + timeout
        while true {
            if try await isStale(oldRoot), try await execute("return document.readyState") as? String == "complete" { return }
            guard ContinuousClock.now < deadline else {
                throw Failure(description: "clicking \(selector) did not load another page within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Runs `script` in the page and returns its result.
    package func execute(_ script: String) async throws -> Any? {
        try await command("POST", "execute/sync", ["script": script, "args": [Any]()])
    }

    /// Whether `element` belongs to a document the window no longer shows (chromedriver answers
    /// "stale element reference", or "no such element" once it has forgotten the old document).
    private func isStale(_ element: String) async throws -> Bool {
        do {
            _ = try await command("GET", "element/\(element)/name", nil)
            return false
        } catch let failure as Failure
            where failure.description.contains("stale element reference") || failure.description.contains("no such element")
        {
            return true
        }
    }

    /// A PNG of the window.
    package func screenshot() async throws -> Data {
        guard let base64 = try await command("GET", "screenshot", nil) as? String, let data = Data(base64Encoded: base64) else {
            throw Failure(description: "no screenshot")
        }
        return data
    }

    private func command(_ method: String, _ path: String, _ body: [String: Any]?) async throws -> Any? {
        try await Self.call(port: port, method, "/session/\(session)/\(path)", body)
    }

    /// One WebDriver call; returns the answer's `value`, or throws its error.
    private static func call(port: Int, _ method: String, _ path: String, _ body: [String: Any]?, timeout: Int = 60) async throws -> Any? {
        let text = try body.map { String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }
        let response = try await RawHTTP.send(
            port: port, method: method, path: path, host: "127.0.0.1:\(port)",
            headers: text == nil ? [] : [("Content-Type", "application/json; charset=utf-8")], body: text
        )
        let object = response.json as? [String: Any]
        if response.status != 200 {
            let error = (object?["value"] as? [String: Any]).map { "\($0["error"] ?? "?"): \($0["message"] ?? "")" } ?? response.body
            throw Failure(description: "WebDriver \(method) \(path) → \(response.status): \(String(describing: error).prefix(600))")
        }
        return object?["value"] ?? nil
    }
}
