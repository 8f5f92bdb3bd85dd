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

    @Test("the hostile-name table is large enough to mean something")
    func tableSize() {
        #expect(HostileInput.tenantNames.count >= 100)
        // Scalars, not Strings: Swift's String equality is canonical, so "\u{E9}" == "e\u{301}", and
        // the table holds both on purpose.
        let distinct = Set(HostileInput.tenantNames.map { $0.unicodeScalars.map(\.value) })
        #expect(distinct.count == HostileInput.tenantNames.count, "no duplicates")
    }

    @Test("hostile names are refused before any path is made, also when decoded from JSON", arguments: HostileInput.tenantNames)
    func hostileNames(name: String) throws {
        let error = #expect(throws: TenantedError.self) { try TenantID(name) }
        #expect(error?.code == .badTenantName)
        #expect(error.map { !$0.message.contains(name) || name.count <= 1 } == true, "the message must not echo the input")
        let json = try JSONEncoder().encode([name])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([TenantID].self, from: json) }
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
