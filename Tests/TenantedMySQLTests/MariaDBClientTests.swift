import Foundation
import MariaDBClient
import NIOPosix
import TenantedTestSupport
import Testing

/// The MariaDB client on its own, against the real server: typed values both ways, bound
/// parameters, errors, the pool, TLS enforcement.
@Suite(.enabled(if: MySQLTestServer.url != nil, MySQLTestServer.unsetReason))
struct MariaDBClientTests {
    private func withConnection<Result: Sendable>(_ body: (MariaDBConnection) async throws -> Result) async throws -> Result {
        let connection = try await MariaDBConnection.connect(configuration: try MySQLTestServer.configuration())
        do {
            let result = try await body(connection)
            await connection.close()
            return result
        } catch {
            await connection.close()
            throw error
        }
    }

    @Test func typedValuesRoundTripThroughBoundParameters() async throws {
        try await withConnection { connection in
            try await connection.query("CREATE TEMPORARY TABLE typed (i BIGINT, u BIGINT UNSIGNED, d DOUBLE, m DECIMAL(12,4), t VARCHAR(100), b VARBINARY(20), dt DATETIME(6), dd DATE, n INT NULL, tiny TINYINT) CHARACTER SET utf8mb4")
            let when = Date(timeIntervalSince1970: 1_700_000_000.123456)
            try await connection.query(
                "INSERT INTO typed VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    .int(-42), .uint(UInt64.max), .double(3.25), .decimal("12345678.1234"), .text("héllo 🌍 ' \" ` \\"),
                    .bytes([0, 1, 2, 255]), .time(MariaDBTime(when)), .time(MariaDBTime(kind: .date, year: 2024, month: 2, day: 29)),
                    .null, .int(-7),
                ]
            )
            let row = try #require(try await connection.query("SELECT * FROM typed").rows.first)
            #expect(row["i"] == .int(-42))
            #expect(row["u"] == .uint(UInt64.max))
            #expect(row["d"] == .double(3.25))
            #expect(row["m"] == .decimal("12345678.1234"))
            #expect(row["m"]?.decimal == Decimal(string: "12345678.1234"))
            #expect(row["t"]?.string == "héllo 🌍 ' \" ` \\")
            #expect(row["b"] == .bytes([0, 1, 2, 255]))
            let stored = try #require(row["dt"]?.date)
            #expect(abs(stored.timeIntervalSince1970 - when.timeIntervalSince1970) < 0.000_002)
            #expect(row["dd"] == .time(MariaDBTime(kind: .date, year: 2024, month: 2, day: 29)))
            #expect(row["n"] == .null)
            #expect(row["tiny"] == .int(-7))
            #expect(row["missing"] == nil)
        }
    }

    @Test func longValuesAreReadWhole() async throws {
        try await withConnection { connection in
            let text = String(repeating: "abcdefghij", count: 100_000)
            let result = try await connection.query("SELECT ? AS long_text, REPEAT('x', 70000) AS generated", [.text(text)])
            #expect(result.rows.first?["long_text"]?.string == text)
            #expect(result.rows.first?["generated"]?.string?.count == 70_000)
        }
    }

    @Test func valuesNeverBecomeSQL() async throws {
        try await withConnection { connection in
            let hostile = "x'; DROP TABLE users; --"
            let result = try await connection.query("SELECT ? AS echoed", [.text(hostile)])
            #expect(result.rows.first?["echoed"]?.string == hostile)
        }
    }

    @Test func insertReportsAffectedRowsAndInsertID() async throws {
        try await withConnection { connection in
            try await connection.query("CREATE TEMPORARY TABLE counters (id BIGINT AUTO_INCREMENT PRIMARY KEY, v INT)")
            let first = try await connection.query("INSERT INTO counters (v) VALUES (?), (?)", [.int(1), .int(2)])
            #expect(first.affectedRows == 2)
            #expect(first.lastInsertID == 1)
            let updated = try await connection.query("UPDATE counters SET v = v + 1")
            #expect(updated.affectedRows == 2)
        }
    }

    @Test func serverErrorsKeepNumberAndSQLStateButNotTheMessage() async throws {
        try await withConnection { connection in
            let error = try await #require(throws: MariaDBError.self) {
                try await connection.query("SELECT * FROM no_such_database_xyz.secret_table_name")
            }
            #expect(error.number == MariaDBError.Number.unknownDatabase || error.number == MariaDBError.Number.noSuchTable)
            #expect(error.sqlState == "42000" || error.sqlState == "42S02")
            #expect(!error.description.contains("secret_table_name"), "\(error.description)")
            #expect(error.debugDescription.contains("no_such_database_xyz"), "\(error.debugDescription)")
            // The connection is still usable after a statement error.
            #expect(try await connection.query("SELECT 1 AS one").rows.first?["one"] == .int(1))
        }
    }

    @Test func wrongPasswordFailsWithoutShowingIt() async throws {
        var configuration = try MySQLTestServer.configuration()
        configuration.password = "definitely-wrong-password-42"
        let error = try await #require(throws: MariaDBError.self) {
            _ = try await MariaDBConnection.connect(configuration: configuration)
        }
        #expect(error.number == 1045)
        #expect(error.sqlState == "28000")
        #expect(!error.description.contains("definitely-wrong"))
        #expect(!error.debugDescription.contains("definitely-wrong"))
        #expect(!configuration.description.contains("definitely-wrong"))
    }

    @Test func bindCountMismatchIsRefused() async throws {
        try await withConnection { connection in
            let error = try await #require(throws: MariaDBError.self) {
                try await connection.query("SELECT ? + ? AS sum", [.int(1)])
            }
            #expect(error.operation == .bind)
        }
    }

    @Test(.enabled(if: MySQLTestServer.tlsCA == nil, "TENANTED_MYSQL_TLS_CA is set: the server offers TLS, so the no-TLS case cannot run"))
    func tlsRequiredAgainstAServerWithoutTLSFails() async throws {
        var configuration = try MySQLTestServer.configuration()
        configuration.tlsMode = .required
        // A server without a certificate: a client that requires TLS must refuse to go on in plain text.
        let error = try await #require(throws: MariaDBError.self) {
            _ = try await MariaDBConnection.connect(configuration: configuration)
        }
        #expect(error.number == 2026)
    }

    @Test(.enabled(if: MySQLTestServer.tlsCA != nil, "TENANTED_MYSQL_TLS_CA is not set: TLS tests skipped (scripts/test sets it when openssl is installed)"))
    func tlsModesFromTheURL() async throws {
        let url = try #require(MySQLTestServer.url), ca = try #require(MySQLTestServer.tlsCA)
        let separator = url.contains("?") ? "&" : "?"
        func cipher(_ query: String) async throws -> String? {
            let connection = try await MariaDBConnection.connect(configuration: try MariaDBConfiguration(url: url + separator + query))
            let cipher = try await connection.query("SHOW SESSION STATUS LIKE 'Ssl_cipher'").rows.first?["Value"]?.string
            await connection.close()
            return cipher
        }
        // Plain by default; encrypted when the URL asks, with and without checking the certificate.
        let plain = try await MariaDBConnection.connect(configuration: try MariaDBConfiguration(url: url))
        #expect(try await plain.query("SHOW SESSION STATUS LIKE 'Ssl_cipher'").rows.first?["Value"]?.string == "")
        await plain.close()
        #expect(try await cipher("ssl-mode=REQUIRED")?.isEmpty == false)
        #expect(try await cipher("ssl-mode=VERIFY_CA&ssl-ca=\(ca)")?.isEmpty == false)
        #expect(try await cipher("ssl-mode=VERIFY_IDENTITY&ssl-ca=\(ca)")?.isEmpty == false)
        // A certificate no trusted CA signed is refused.
        let untrusted = try await #require(throws: MariaDBError.self) {
            _ = try await cipher("ssl-mode=VERIFY_CA&ssl-ca=/etc/ssl/certs/ca-certificates.crt")
        }
        #expect(untrusted.operation == .connect)
    }

    @Test func poolLimitsAndReusesConnections() async throws {
        let pool = MariaDBConnectionPool(configuration: try MySQLTestServer.configuration(), maximumConnections: 2)
        let ids = Locked(Set<Int64>())
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<10 {
                group.addTask {
                    try await pool.withConnection { connection in
                        let id = try await connection.query("SELECT CONNECTION_ID() AS id").rows.first?["id"]?.int64
                        _ = ids.withLock { $0.insert(id ?? -1) }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(ids.withLock { $0.count } <= 2)
        #expect(pool.openConnections <= 2)
        await pool.close()
        #expect(pool.openConnections == 0)
        await #expect(throws: MariaDBError.self) { try await pool.withConnection { _ in } }
    }
}

/// URL parsing: bad input gets a clear error that never repeats the URL or password.
struct MariaDBConfigurationTests {
    @Test func parsesAFullURL() throws {
        let configuration = try MariaDBConfiguration(url: "mysql://app:s%40cret@db.example:3307/shop?ssl-mode=required&connect-timeout=3")
        #expect(configuration.host == "db.example")
        #expect(configuration.port == 3307)
        #expect(configuration.user == "app")
        #expect(configuration.password == "s@cret")
        #expect(configuration.database == "shop")
        #expect(configuration.tlsMode == .required)
        #expect(configuration.connectTimeout == .seconds(3))
        #expect(!configuration.description.contains("cret"))
    }

    @Test(arguments: [
        "", "not a url", "postgres://u@h/db", "mysql://h/db", "mysql://u:pw@:3306/db", "mysql://u:pw@h:0/db",
        "mysql://u:pw@h/a/b", "mysql://u:pw@h/db?ssl-mode=sometimes", "mysql://u:pw@h/db?ssl-mode=VERIFY_CA",
        "mysql://u:pw@h/db?bogus=1", "mysql://u:pw@h/db?connect-timeout=-1",
    ])
    func refusesBadURLs(url: String) {
        let error = #expect(throws: MariaDBError.self) { try MariaDBConfiguration(url: url) }
        #expect(error?.operation == .url)
        #expect(error.map { !$0.description.contains("pw") } ?? false, "\(String(describing: error))")
    }
}
