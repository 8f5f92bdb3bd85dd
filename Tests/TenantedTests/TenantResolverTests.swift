import Tenanted
import Testing

/// The resolvers are framework-neutral: they read a request head any web framework can provide.
@Suite("Tenant resolvers over a framework-neutral request head")
struct NeutralTenantResolverTests {
    struct Head: TenantRequestHead {
        var host: String?
        var path = "/"
        var headers: [String: String] = [:]

        var tenantHostHeader: String? { host }
        var tenantPath: String { path }
        func tenantHeader(_ name: String) -> String? { headers.first { $0.key.lowercased() == name.lowercased() }?.value }
    }

    @Test("each built-in resolver reads the head the same way whatever the framework")
    func builtIns() throws {
        let subdomain = try TenantResolver.subdomain(of: "example.com")
        #expect(subdomain.candidate(for: Head(host: "acme.example.com:8080")) == "acme")
        #expect(subdomain.candidate(for: Head(host: "ACME.Example.COM.")) == "acme")
        #expect(subdomain.candidate(for: Head(host: "example.com")) == nil)
        #expect(subdomain.candidate(for: Head(host: "acme.example.com.evil.net")) == nil)
        #expect(subdomain.candidate(for: Head(host: "\u{212A}elvin.example.com")) == nil, "no non-ASCII host folds onto a tenant")
        #expect(subdomain.candidate(for: Head(host: nil)) == nil)
        #expect(TenantResolver.firstHostLabel().candidate(for: Head(host: "globex.localhost")) == "globex")
        #expect(TenantResolver.firstHostLabel().candidate(for: Head(host: "127.0.0.1")) == nil)
        #expect(TenantResolver.host.candidate(for: Head(host: "initech:80")) == "initech")
        #expect(TenantResolver.hostMap(["notes.acme.com": try TenantID("acme")]).candidate(for: Head(host: "Notes.Acme.com")) == "acme")
        #expect(TenantResolver.header().candidate(for: Head(headers: ["x-tenant": "umbrella"])) == "umbrella")
        #expect(TenantResolver.header().candidate(for: Head(headers: ["X-Tenant": ""])) == nil)
        #expect(TenantResolver.pathPrefix.candidate(for: Head(path: "/acme/notes")) == "acme")
        #expect(TenantResolver.pathPrefix.candidate(for: Head(path: "/")) == nil)
        #expect(TenantResolver(resolving: { $0.tenantHeader("X-Org") }).candidate(for: Head(headers: ["X-Org": "hooli"])) == "hooli")
    }

    @Test("a base domain that is not a host name is refused", arguments: ["", "example.com:80", "exa mple.com", "ex/ample.com", "exämple.com", "a..b"])
    func badBaseDomain(domain: String) {
        #expect(throws: TenantedError.self) { try TenantResolver.subdomain(of: domain) }
    }
}
