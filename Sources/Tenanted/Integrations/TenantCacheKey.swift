/// The cache-key scheme of tenant-scoped caches: every key of one tenant is prefixed with the
/// tenant's name, length-delimited, so the keys of two tenants can never collide.
///
/// A plain `tenant + ":" + key` would let tenant `a` with key `b:c` and a tenant `a:b` with key `c`
/// share one entry; with the length in front (`t4:acme:` + key) a prefix is never ambiguous, whatever
/// the key contains. The framework wings build their tenant caches (`req.tenantCache` in Vapor, the
/// persist driver in Hummingbird) on it.
public enum TenantCacheKey {
    /// The key `key` of `tenant` in the shared cache.
    public static func scoped(_ key: String, for tenant: TenantID) -> String {
        "t\(tenant.rawValue.utf8.count):\(tenant.rawValue):\(key)"
    }

    /// The key `key` of the current tenant.
    /// - Throws: ``TenantedError/Code/noTenant`` outside every tenant scope.
    public static func scoped(_ key: String) throws(TenantedError) -> String {
        scoped(key, for: try Tenant.require())
    }

    /// The tenant and the tenant's own key of a scoped key, or `nil` for a key that is not one.
    public static func parse(_ scopedKey: String) -> (tenant: TenantID, key: String)? {
        guard scopedKey.hasPrefix("t"), let colon = scopedKey.firstIndex(of: ":") else { return nil }
        guard let length = Int(scopedKey[scopedKey.index(after: scopedKey.startIndex)..<colon]), length > 0 else { return nil }
        let utf8 = scopedKey.utf8
        let nameStart = utf8.index(after: colon)
        guard let nameEnd = utf8.index(nameStart, offsetBy: length, limitedBy: utf8.endIndex),
              nameEnd < utf8.endIndex, utf8[nameEnd] == UInt8(ascii: ":"),
              let name = String(utf8[nameStart..<nameEnd]), let tenant = try? TenantID(name)
        else { return nil }
        return (tenant, String(scopedKey[scopedKey.index(after: nameEnd)...]))
    }
}
