import FluentKit
import FluentSQLiteDriver
import TenantedFluent

@main
struct Entry {
    static func main() async throws {}
}
