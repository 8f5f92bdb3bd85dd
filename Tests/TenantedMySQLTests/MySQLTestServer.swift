import Foundation
import Logging
import MariaDBClient
import Tenanted
import TenantedMySQL
import Testing

/// The MariaDB / MySQL server of the test run: `TENANTED_MYSQL_URL`. Tests that need it are disabled,
/// with the reason printed, when it is unset.
enum MySQLTestServer {
    static let url = ProcessInfo.processInfo.environment["TENANTED_MYSQL_URL"].flatMap { $0.isEmpty ? nil : $0 }

    /// The CA of the test server's certificate, when it offers TLS (scripts/test sets it).
    static let tlsCA = ProcessInfo.processInfo.environment["TENANTED_MYSQL_TLS_CA"].flatMap { $0.isEmpty ? nil : $0 }

    static let unsetReason: Comment = "TENANTED_MYSQL_URL is not set: MySQL tests skipped (scripts/test starts a throwaway MariaDB server when mariadb-server is installed)"

    static func configuration() throws -> MariaDBConfiguration {
        try MariaDBConfiguration(url: try #require(url))
    }

    /// A prefix no other test uses, so tests share the server without seeing each other's tenants.
    static func uniquePrefix() -> String {
        "t" + UUID().uuidString.prefix(8).lowercased().filter(\.isHexDigit) + "_"
    }
}

/// Stores over one server and one prefix ("processes" sharing it), and the clean-up of everything
/// the prefix created.
struct MySQLTestStores: Sendable {
    let prefix: String
    let catalog: String

    init(catalog: String = "tenanted") {
        prefix = MySQLTestServer.uniquePrefix()
        self.catalog = catalog
    }

    func makeStore() throws -> MySQLStore {
        var configuration = MySQLStore.Configuration(server: try MySQLTestServer.configuration(), prefix: prefix)
        configuration.catalogDatabase = catalog
        configuration.coherenceInterval = .milliseconds(50)
        configuration.logger = Logger(label: "tenanted.mysql.tests", factory: { _ in SwiftLogNoOpLogHandler() })
        return try MySQLStore(configuration: configuration)
    }

    /// Drops every database of the prefix and its catalog rows.
    func cleanUp() async {
        guard let configuration = try? MySQLTestServer.configuration() else { return }
        let pool = MariaDBConnectionPool(configuration: configuration.with(database: nil), maximumConnections: 1)
        _ = try? await pool.withConnection { connection in
            let pattern = prefix.replacingOccurrences(of: "_", with: "\\_") + "%"
            let names = try await connection.query(
                "SELECT schema_name AS name FROM information_schema.schemata WHERE schema_name LIKE ?", [.text(pattern)]
            ).rows.compactMap { $0["name"]?.string }
            for name in names { try await connection.query("DROP DATABASE IF EXISTS `\(name)`") }
            _ = try? await connection.query("DELETE FROM `\(catalog)`.`tenants` WHERE store_key = ?", [.text(prefix)])
            _ = try? await connection.query("DELETE FROM `\(catalog)`.`versions` WHERE store_key = ?", [.text(prefix)])
        }
        await pool.close()
    }
}
