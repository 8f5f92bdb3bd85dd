import Foundation
import NIOSSL
import PostgresNIO
public import Tenanted

/// One PostgreSQL server tenants can be placed on.
///
/// ```swift
/// let primary = try PostgresServer(name: "eu-1", url: "postgres://app:secret@10.0.0.5:5432/postgres")
/// ```
///
/// `database` is the server's maintenance database: the database-per-tenant store connects to it to
/// run `CREATE DATABASE`; the schema-per-tenant store keeps its tenants' schemas in it.
public struct PostgresServer: Sendable, Hashable, CustomStringConvertible {
    /// How the connection is encrypted.
    public enum TLSMode: String, Sendable, Hashable {
        /// No TLS (`sslmode=disable`).
        case disable
        /// TLS when the server offers it (`sslmode=prefer`, libpq's default).
        case prefer
        /// TLS or no connection (`sslmode=require`).
        case require
    }

    /// The server's name in the placement catalog and in `tenants move NAME --to SERVER`.
    public var name: String
    /// Host name or IP address.
    public var host: String
    /// TCP port. Default: 5432.
    public var port: Int
    /// The role Tenanted connects as. It needs `CREATEDB` for the database-per-tenant store.
    public var username: String
    /// The role's password, if the server asks for one.
    public var password: String?
    /// The maintenance database (database per tenant) or the tenants' database (schema per tenant).
    public var database: String
    /// Encryption. Default: ``TLSMode/prefer``.
    public var tls: TLSMode

    /// Creates a server description.
    /// - Throws: ``Tenanted/TenantedError/Code/invalidConfiguration`` for an empty or malformed part.
    public init(
        name: String,
        host: String,
        port: Int = 5432,
        username: String,
        password: String? = nil,
        database: String = "postgres",
        tls: TLSMode = .prefer
    ) throws(TenantedError) {
        try Self.check(name: name)
        guard !host.isEmpty, !host.contains(where: { $0.isWhitespace || $0 == "/" }) else {
            throw TenantedError(.invalidConfiguration, "PostgreSQL server '\(name)': host must be a non-empty host name or address")
        }
        guard (1...65535).contains(port) else {
            throw TenantedError(.invalidConfiguration, "PostgreSQL server '\(name)': port \(port) is not in 1...65535")
        }
        guard !username.isEmpty else {
            throw TenantedError(.invalidConfiguration, "PostgreSQL server '\(name)': the user name is empty")
        }
        guard !database.isEmpty, !database.contains("\u{0}") else {
            throw TenantedError(.invalidConfiguration, "PostgreSQL server '\(name)': the database name is empty")
        }
        self.name = name
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
    }

    /// Creates a server description from a URL:
    /// `postgres://USER[:PASSWORD]@HOST[:PORT][/DATABASE][?sslmode=disable|prefer|require]`.
    ///
    /// `postgresql://` is accepted too; the database defaults to `postgres`.
    /// - Throws: ``Tenanted/TenantedError/Code/invalidConfiguration`` naming what is wrong. The message
    ///   never repeats the password.
    public init(name: String, url: String) throws(TenantedError) {
        try Self.check(name: name)
        let invalid = { (why: String) in
            TenantedError(.invalidConfiguration, "PostgreSQL server '\(name)': the URL \(why); expected postgres://USER[:PASSWORD]@HOST[:PORT][/DATABASE][?sslmode=disable|prefer|require]")
        }
        guard let components = URLComponents(string: url) else { throw invalid("cannot be parsed") }
        guard let scheme = components.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql" else {
            throw invalid("does not start with postgres://")
        }
        guard let host = components.host, !host.isEmpty else { throw invalid("has no host") }
        guard let user = components.user, !user.isEmpty else { throw invalid("has no user name") }
        var path = components.path
        if path.hasPrefix("/") { path.removeFirst() }
        if path.contains("/") { throw invalid("has more than one path segment") }
        var tls = TLSMode.prefer
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let value = item.value, let mode = TLSMode(rawValue: value) else {
                    throw invalid("has an unsupported sslmode (use disable, prefer or require)")
                }
                tls = mode
            default:
                throw invalid("has an unsupported parameter '\(item.name)'")
            }
        }
        try self.init(
            name: name,
            host: host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host,
            port: components.port ?? 5432,
            username: user,
            password: components.password,
            database: path.isEmpty ? "postgres" : path,
            tls: tls
        )
    }

    public var description: String { "\(name) (\(username)@\(host):\(port)/\(database))" }

    /// The configuration of a client connected to `database` on this server.
    /// `minimumConnections` stay open while idle (see ``PostgresStore/Configuration/minimumConnectionsPerPool``).
    func clientConfiguration(
        database: String, maximumConnections: Int, minimumConnections: Int = 0, startupParameters: [(String, String)] = []
    ) -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS
        switch self.tls {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(.makeClientConfiguration())
        case .require: tls = .require(.makeClientConfiguration())
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls
        )
        configuration.options.maximumConnections = maximumConnections
        configuration.options.minimumConnections = minimumConnections
        // No keep-alive query: postgres-nio schedules its timer (a task and a dispatch timer) each
        // time a connection goes back to the pool and cancels it at the next lease — per query.
        // An idle connection closes after `connectionIdleTimeout` (60 s) anyway, well before the
        // idle limits of firewalls and NATs that keep-alives are for.
        configuration.options.keepAliveBehavior = nil
        configuration.options.additionalStartupParameters = startupParameters
        return configuration
    }

    /// Environment variables that point libpq tools (`pg_dump`, `pg_restore`) at `database` here.
    func libpqEnvironment(database: String) -> [String: String] {
        var environment = [
            "PGHOST": host, "PGPORT": "\(port)", "PGUSER": username, "PGDATABASE": database,
            "PGSSLMODE": tls.rawValue, "PGCONNECT_TIMEOUT": "10",
        ]
        if let password { environment["PGPASSWORD"] = password }
        return environment
    }

    private static func check(name: String) throws(TenantedError) {
        guard ASCIIAllowlist.name.allows(name) else {
            throw TenantedError(.invalidConfiguration, "a PostgreSQL server name must be 1 to 63 letters, digits, '-' or '_'")
        }
    }
}
