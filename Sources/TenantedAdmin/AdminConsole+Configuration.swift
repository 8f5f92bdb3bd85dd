public import Tenanted

extension AdminConsole {
    /// How the console is reached and protected.
    public struct Configuration: Sendable {
        /// The environment variable that enables the console in the demos and in
        /// ``fromEnvironment(_:)``: the operators' token.
        public static let tokenVariable = "TENANTED_ADMIN_TOKEN"
        /// The environment variable that moves the console from `/admin` (e.g. `/ops/admin`).
        public static let pathVariable = "TENANTED_ADMIN_PATH"
        /// The shortest token accepted, in bytes.
        public static let minimumTokenLength = 16

        /// The operators' shared secret: typed into the login form, and the key that signs sessions,
        /// so every process configured with the same token accepts the same sessions.
        public var token: String
        /// Where the console is mounted, e.g. `/admin`: its links, form actions and the session
        /// cookie's `Path` start with it.
        public var mountPath: String
        /// How long a login lasts.
        public var sessionLifetime: Duration
        /// Tenants shown per page of the tenant list.
        public var pageSize: Int

        /// - Throws: ``TenantedError/Code/invalidConfiguration`` for a token shorter than
        ///   ``minimumTokenLength`` bytes or with characters other than printable ASCII, a mount path
        ///   that is not `/` followed by letters, digits, `-` or `_` segments, a session lifetime under
        ///   a minute, or a page size outside 1…999.
        public init(
            token: String,
            mountPath: String = "/admin",
            sessionLifetime: Duration = .seconds(12 * 3600),
            pageSize: Int = 100
        ) throws(TenantedError) {
            guard token.utf8.count >= Self.minimumTokenLength else {
                throw TenantedError(.invalidConfiguration, "the admin token must be at least \(Self.minimumTokenLength) bytes long")
            }
            guard token.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
                throw TenantedError(.invalidConfiguration, "the admin token may hold printable ASCII only (no spaces or control characters)")
            }
            let segments = mountPath.split(separator: "/", omittingEmptySubsequences: false)
            guard mountPath.hasPrefix("/"), mountPath.count > 1, !mountPath.hasSuffix("/"),
                segments.dropFirst().allSatisfy({ segment in
                    !segment.isEmpty && segment.utf8.allSatisfy { byte in
                        (0x61...0x7A).contains(byte) || (0x41...0x5A).contains(byte) || (0x30...0x39).contains(byte) || byte == 0x2D || byte == 0x5F
                    }
                })
            else {
                throw TenantedError(.invalidConfiguration, "the admin mount path must look like /admin (segments of letters, digits, - and _)")
            }
            guard sessionLifetime >= .seconds(60) else {
                throw TenantedError(.invalidConfiguration, "the admin session lifetime must be at least a minute")
            }
            // A page reads one name more than it shows, to know whether another page follows.
            guard (1..<TenantListQuery.maximumLimit).contains(pageSize) else {
                throw TenantedError(.invalidConfiguration, "the admin page size must be 1 to \(TenantListQuery.maximumLimit - 1)")
            }
            self.token = token
            self.mountPath = mountPath
            self.sessionLifetime = sessionLifetime
            self.pageSize = pageSize
        }

        /// The configuration from ``tokenVariable`` and ``pathVariable``, or `nil` when the token is
        /// unset or empty (the console is then off).
        ///
        /// - Parameter mountPath: the mount path when ``pathVariable`` is unset. Default: `/admin`.
        /// - Throws: ``TenantedError/Code/invalidConfiguration``, naming the variable, when the token
        ///   or the path is set but unusable (the message never repeats the token).
        public static func fromEnvironment(_ environment: [String: String], mountPath: String = "/admin") throws(TenantedError) -> Configuration? {
            guard let token = environment[tokenVariable], !token.isEmpty else { return nil }
            let path = environment[pathVariable].flatMap { $0.isEmpty ? nil : $0 } ?? mountPath
            do {
                _ = try Configuration(token: String(repeating: "x", count: minimumTokenLength), mountPath: path)
            } catch {
                throw TenantedError(.invalidConfiguration, "\(pathVariable): \(error.message)")
            }
            do {
                return try Configuration(token: token, mountPath: path)
            } catch {
                throw TenantedError(.invalidConfiguration, "\(tokenVariable): \(error.message)")
            }
        }
    }
}
