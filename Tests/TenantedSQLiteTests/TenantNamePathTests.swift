import TenantedTestSupport
import Foundation
import Tenanted
import TenantedSQLite
import Testing

@Suite("SQLite store: tenant names and the file system")
struct TenantNamePathTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    @Test(
        "hostile names are refused before any path is made",
        arguments: [
            "", ".", "..", "../etc", "../../passwd", "a/b", "/abs", "a\\b", "acme\0", "%2e%2e", "acme%00",
            "ACME", " acme", "acme ", "-acme", "_acme", "a:b", "a*b", "~acme", "\u{0430}cme",
            String(repeating: "a", count: 64),
        ]
    )
    func hostileNames(name: String) throws {
        let error = #expect(throws: TenantedError.self) { try TenantID(name) }
        #expect(error?.code == .badTenantName)
    }

    @Test(
        "every valid name stays under the root, in exactly the template's components",
        arguments: [
            "storage/tenants/%{tenant}/main.sqlite3",
            "%{tenant}.sqlite3",
            "t/%{bucket}/%{tenant}/db.sqlite3",
            "db-%{tenant}-x/main.sqlite3",
        ]
    )
    func pathsStayUnderRoot(template: String) throws {
        let store = try directory.store(template: template)
        let depth = template.split(separator: "/").count + (template.contains("%{bucket}") ? 1 : 0)
        let names = ["a", "0", "a-b", "a_b", "0-_", "con", "nul", "x--", String(repeating: "z", count: 63)]
        for name in names {
            let tenant = try TenantID(name)
            let path = store.databasePath(for: tenant)
            #expect(path.hasPrefix(store.root + "/"))
            #expect(URL(fileURLWithPath: path).standardizedFileURL.path == path)
            let relative = path.dropFirst(store.root.count + 1).split(separator: "/", omittingEmptySubsequences: false)
            #expect(relative.count == depth)
            #expect(!relative.contains { $0.isEmpty || $0 == "." || $0 == ".." })
            #expect(relative.contains { $0.contains(name) })
        }
    }

    @Test("different tenants never share a database path")
    func distinctPaths() throws {
        let store = try directory.store(template: "t/%{bucket}/%{tenant}/db.sqlite3")
        let names = (0..<500).map { "tenant-\($0)" } + ["a", "a-", "a_", "a--", "a-_"]
        let paths = try Set(names.map { store.databasePath(for: try TenantID($0)) })
        #expect(paths.count == names.count)
    }
}
