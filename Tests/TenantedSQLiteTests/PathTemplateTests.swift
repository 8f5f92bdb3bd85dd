import TenantedTestSupport
import Tenanted
import TenantedSQLite
import Testing

@Suite("SQLite store configuration and path templates")
struct PathTemplateTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    @Test(
        "a path template that is not a clean relative path naming the tenant is refused",
        arguments: [
            "",
            "/storage/%{tenant}/main.sqlite3",
            "storage//%{tenant}/main.sqlite3",
            "storage/%{tenant}/",
            "./%{tenant}/main.sqlite3",
            "storage/./%{tenant}/main.sqlite3",
            "../%{tenant}/main.sqlite3",
            "storage/%{tenant}/../main.sqlite3",
            "storage/main.sqlite3",
            "storage/%{foo}/%{tenant}.sqlite3",
            "storage/%{tenant}/main%.sqlite3",
            "storage/%{tenant}/main.sqlite3%",
            "storage/%{tenant/main.sqlite3",
            "storage/x%{bucket}/%{tenant}.sqlite3",
            "storage/%{bucket}x/%{tenant}.sqlite3",
            "storage/%{tenant}%{bucket}.sqlite3",
            "storage/%{tenant}/%{bucket}",
            "%{tenant}/%{bucket}",
            "storage/x%{bucket1}/%{tenant}.sqlite3",
            "storage/%{bucket1}x/%{tenant}.sqlite3",
            "storage/%{tenant}%{bucket1}.sqlite3",
            "storage/%{tenant}/%{bucket1}",
            "%{bucket1}/%{bucket1}",
            "storage/%{bucket2}/%{tenant}.sqlite3",
            "storage/%{bucket1/%{tenant}.sqlite3",
            "storage/%{tenant}\0/main.sqlite3",
        ]
    )
    func invalidTemplates(template: String) throws {
        let error = #expect(throws: TenantedError.self) {
            try directory.store(template: template)
        }
        #expect(error?.code == .invalidConfiguration)
        // The message must not echo the template (it is a path); the detail may.
        #expect(error.map { !$0.description.contains("storage") } ?? true)
    }

    @Test(
        "clean relative templates naming the tenant are accepted",
        arguments: [
            "storage/tenants/%{tenant}/main.sqlite3",
            "%{tenant}.sqlite3",
            "t/%{bucket}/%{tenant}/db.sqlite3",
            "t/%{bucket1}/%{tenant}.sqlite3",
            "t/%{bucket1}/%{tenant}/db.sqlite3",
            "db-%{tenant}-x/main.sqlite3",
        ]
    )
    func validTemplates(template: String) throws {
        let store = try directory.store(template: template)
        #expect(store.configuration.pathTemplate == template)
    }

    @Test("the default template puts each tenant in its own directory under storage/tenants")
    func defaultTemplate() throws {
        let store = try directory.store()
        #expect(store.root == directory.path)
        #expect(store.databasePath(for: try TenantID("acme")) == directory.path + "/storage/tenants/acme/main.sqlite3")
    }

    @Test("tokens are replaced wherever they stand in a component")
    func tokensInsideComponents() throws {
        let store = try directory.store(template: "db-%{tenant}-x/%{tenant}.sqlite3")
        #expect(store.databasePath(for: try TenantID("acme")) == directory.path + "/db-acme-x/acme.sqlite3")
    }

    @Test("an empty root or a root with a NUL character is refused")
    func invalidRoots() throws {
        for root in ["", "/tmp/a\0b"] {
            let error = #expect(throws: TenantedError.self) {
                try SQLiteStore(configuration: .init(root: root))
            }
            #expect(error?.code == .invalidConfiguration)
        }
    }

    @Test("a relative root is resolved to an absolute, standardized path once")
    func relativeRoot() throws {
        let store = try SQLiteStore(configuration: .init(root: "some/./where/../place"))
        #expect(store.root.hasPrefix("/"))
        #expect(store.root.hasSuffix("/some/place"))
    }

    @Test("a negative number of readers is refused")
    func negativeReaders() throws {
        let error = #expect(throws: TenantedError.self) {
            try directory.store { $0.maximumReaders = -1 }
        }
        #expect(error?.code == .invalidConfiguration)
        #expect(throws: Never.self) { try directory.store { $0.maximumReaders = 0 } }
    }

    @Test("a negative busy timeout is refused")
    func negativeBusyTimeout() throws {
        for timeout in [Duration.milliseconds(-1), .seconds(-5)] {
            let error = #expect(throws: TenantedError.self) {
                try directory.store { $0.busyTimeout = timeout }
            }
            #expect(error?.code == .invalidConfiguration)
        }
        #expect(throws: Never.self) { try directory.store { $0.busyTimeout = .zero } }
    }
}
