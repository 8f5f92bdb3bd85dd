import TenantedTestSupport
import Tenanted
import TenantedSQLite

extension TemporaryDirectory {
    /// A store rooted in this directory; `configure` adjusts the defaults.
    func store(_ configure: (inout SQLiteStore.Configuration) -> Void = { _ in }) throws -> SQLiteStore {
        var configuration = SQLiteStore.Configuration(root: path, logger: .silent)
        configure(&configuration)
        return try SQLiteStore(configuration: configuration)
    }

    /// A store rooted in this directory with the given path template.
    func store(template: String) throws -> SQLiteStore {
        try store { $0.pathTemplate = template }
    }
}

extension TemporaryDirectory {
    /// ``contents()`` without the store's tenant templates (`.tenanted-templates/`), which belong to
    /// the migration set, not to any tenant.
    func tenantContents() -> Set<String> {
        contents().filter { !$0.contains(".tenanted-templates/") }
    }
}
