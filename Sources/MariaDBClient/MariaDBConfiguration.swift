import Foundation

/// Where and how to connect: host, port, credentials, default database, TLS and timeouts.
///
/// ```swift
/// let configuration = try MariaDBConfiguration(url: "mysql://app:secret@db:3306/app?ssl-mode=REQUIRED")
/// ```
///
/// `description` never shows the password; no error ever carries the URL.
public struct MariaDBConfiguration: Sendable, Hashable, CustomStringConvertible {
    /// When to use TLS, as MySQL's `--ssl-mode`.
    public enum TLSMode: String, Sendable, Hashable, CaseIterable {
        /// Plain TCP.
        case disabled = "DISABLED"
        /// TLS, without checking the server's certificate.
        case required = "REQUIRED"
        /// TLS, and the server's certificate must be signed by a trusted CA (`ssl-ca`).
        case verifyCA = "VERIFY_CA"
        /// As ``verifyCA``, and the certificate must name the host.
        case verifyIdentity = "VERIFY_IDENTITY"
    }

    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    /// The database a connection starts in; `nil` for none.
    public var database: String?
    public var tlsMode: TLSMode
    /// A PEM file of trusted CA certificates, for ``TLSMode/verifyCA`` and ``TLSMode/verifyIdentity``.
    public var tlsCAFile: String?
    /// How long a connect may take. Default: 10 seconds.
    public var connectTimeout: Duration
    /// How long one read or write on the socket may wait. Default: 5 minutes (a long DDL or a lock
    /// wait is not an error).
    public var readTimeout: Duration

    /// Creates a configuration.
    public init(
        host: String, port: Int = 3306, user: String, password: String? = nil, database: String? = nil,
        tlsMode: TLSMode = .disabled, tlsCAFile: String? = nil,
        connectTimeout: Duration = .seconds(10), readTimeout: Duration = .seconds(300)
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.tlsMode = tlsMode
        self.tlsCAFile = tlsCAFile
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
    }

    /// Parses `mysql://user:password@host:port/database?ssl-mode=…&ssl-ca=…` (also `mariadb://`).
    ///
    /// `ssl-mode` is one of `DISABLED` (the default), `REQUIRED`, `VERIFY_CA`, `VERIFY_IDENTITY`
    /// (any case); `connect-timeout` and `read-timeout` are whole seconds.
    /// - Throws: ``MariaDBError`` (operation `.url`) naming what is wrong, never the URL.
    public init(url: String) throws(MariaDBError) {
        func bad(_ reason: String) -> MariaDBError { MariaDBError(.url, message: reason) }
        guard let components = URLComponents(string: url) else { throw bad("not a URL") }
        guard let scheme = components.scheme?.lowercased(), ["mysql", "mariadb"].contains(scheme) else {
            throw bad("the scheme must be mysql:// or mariadb://")
        }
        guard let host = components.host, !host.isEmpty else { throw bad("no host") }
        guard let user = components.user, !user.isEmpty else { throw bad("no user") }
        let port = components.port ?? 3306
        guard (1...65535).contains(port) else { throw bad("the port must be from 1 to 65535") }
        var path = components.path
        if path.hasPrefix("/") { path.removeFirst() }
        guard !path.contains("/") else { throw bad("the path must be one database name") }
        self.init(host: host, port: port, user: user, password: components.password, database: path.isEmpty ? nil : path)
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name.lowercased() {
            case "ssl-mode", "sslmode", "ssl_mode":
                guard let mode = TLSMode(rawValue: value.uppercased().replacingOccurrences(of: "-", with: "_")) else {
                    throw bad("ssl-mode must be one of \(TLSMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                tlsMode = mode
            case "ssl-ca", "sslca", "ssl_ca":
                guard !value.isEmpty else { throw bad("ssl-ca must name a file") }
                tlsCAFile = value
            case "connect-timeout", "connect_timeout":
                guard let seconds = Int(value), seconds > 0 else { throw bad("connect-timeout must be a positive whole number of seconds") }
                connectTimeout = .seconds(seconds)
            case "read-timeout", "read_timeout":
                guard let seconds = Int(value), seconds > 0 else { throw bad("read-timeout must be a positive whole number of seconds") }
                readTimeout = .seconds(seconds)
            default:
                throw bad("unknown parameter '\(String(item.name.prefix(40)))' (known: ssl-mode, ssl-ca, connect-timeout, read-timeout)")
            }
        }
        if tlsMode == .verifyCA || tlsMode == .verifyIdentity, tlsCAFile == nil {
            throw bad("ssl-mode \(tlsMode.rawValue) needs ssl-ca (a PEM file of trusted CA certificates)")
        }
    }

    /// The same server with another default database.
    public func with(database: String?) -> MariaDBConfiguration {
        var copy = self
        copy.database = database
        return copy
    }

    public var description: String {
        "mysql://\(user)\(password == nil ? "" : ":***")@\(host):\(port)/\(database ?? "")"
            + (tlsMode == .disabled ? "" : "?ssl-mode=\(tlsMode.rawValue)")
    }
}
