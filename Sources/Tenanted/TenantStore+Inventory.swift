/// Which tenants one page of a listing holds: names starting with ``prefix``, ascending, at most
/// ``limit`` of them, after ``after`` (the next page) or before ``before`` (the previous page).
public struct TenantListQuery: Sendable, Hashable {
    /// The most names a page may hold.
    public static let maximumLimit = 1000

    /// Only names starting with this (empty: every name).
    public var prefix: String
    /// Only names after this one (the last name of the page before).
    public var after: TenantID?
    /// Only names before this one (the first name of the page after); the page holds the last
    /// ``limit`` of them.
    public var before: TenantID?
    /// The most names returned.
    public var limit: Int

    /// - Throws: ``TenantedError/Code/invalidConfiguration`` for a limit outside 1…``maximumLimit``,
    ///   both `after` and `before`; ``TenantedError/Code/badTenantName`` for a prefix no tenant name
    ///   could start with.
    public init(prefix: String = "", after: TenantID? = nil, before: TenantID? = nil, limit: Int = 100) throws(TenantedError) {
        guard (1...Self.maximumLimit).contains(limit) else {
            throw TenantedError(.invalidConfiguration, "a tenant page holds 1 to \(Self.maximumLimit) names, not \(limit)")
        }
        guard after == nil || before == nil else {
            throw TenantedError(.invalidConfiguration, "a tenant page is either after a name or before one, not both")
        }
        // Every prefix of a valid name is itself a valid name, so the name rules check it.
        if !prefix.isEmpty {
            do {
                _ = try TenantID(prefix)
            } catch {
                let rule = error.message.split(separator: ": ", maxSplits: 1).last.map(String.init) ?? error.message
                throw TenantedError(.badTenantName, "invalid tenant name prefix: \(rule)")
            }
        }
        self.prefix = prefix
        self.after = after
        self.before = before
        self.limit = limit
    }

    /// Whether `tenant` belongs in the page's range (ignoring the limit).
    public func admits(_ tenant: TenantID) -> Bool {
        tenant.rawValue.hasPrefix(prefix)
            && after.map { tenant > $0 } ?? true
            && before.map { tenant < $0 } ?? true
    }

    /// The page out of every tenant name, sorted ascending.
    public func page(of sorted: [TenantID]) -> [TenantID] {
        let matching = sorted.filter(admits)
        return before == nil ? Array(matching.prefix(limit)) : Array(matching.suffix(limit))
    }
}

extension TenantStore {
    /// The default lists every tenant and keeps the page; a store with an index (a catalog table)
    /// answers from it instead.
    public func tenants(matching query: TenantListQuery) async throws -> [TenantID] {
        query.page(of: try await tenants())
    }

    /// The default counts ``tenants()``.
    public func tenantCount() async throws -> Int {
        try await tenants().count
    }

    /// The default cannot tell.
    public func storageSize(of tenant: TenantID) async throws -> Int64? { nil }
}

extension TenantPlacingStore {
    public func tenantCountsByServer() async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for tenant in try await tenants() { counts[try await server(of: tenant), default: 0] += 1 }
        return counts
    }
}
