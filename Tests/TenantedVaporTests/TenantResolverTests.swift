import Tenanted
import TenantedVapor
import Testing
import Vapor
import VaporTesting

/// The resolvers, on real `Request`s.
@Suite struct TenantResolverTests {
    func candidate(_ resolver: TenantResolver, host: String? = nil, path: String = "/", headers: [(String, String)] = []) async throws -> String? {
        let app = try await Application.make(.testing)
        var all = HTTPHeaders(headers)
        if let host { all.replaceOrAdd(name: .host, value: host) }
        let request = Request(application: app, method: .GET, url: URI(path: path), headers: all, on: app.eventLoopGroup.any())
        let result = resolver.candidate(for: request)
        try await app.asyncShutdown()
        return result
    }

    @Test func subdomainUnderTheBaseDomain() async throws {
        let resolver = try TenantResolver.subdomain(of: "example.com")
        #expect(try await candidate(resolver, host: "acme.example.com") == "acme")
        #expect(try await candidate(resolver, host: "ACME.Example.COM:443") == "acme")
        #expect(try await candidate(resolver, host: "acme.example.com.") == "acme")
        for host in ["example.com", "www.example.com", "x.acme.example.com", "acme.example.com.evil.net", "acme.example.org",
                     "evilexample.com", "10.0.0.1", "10.0.0.1:80", "[::1]", "[::1]:80", "acme.example.com:http", ""] {
            #expect(try await candidate(resolver, host: host) == nil, "\(host)")
        }
        #expect(try await candidate(resolver) == nil, "no Host header")
        #expect(try await candidate(try .subdomain(of: "example.com", excluding: ["www", "api"]), host: "api.example.com") == nil)
        #expect(try await candidate(try .subdomain(of: "localhost"), host: "acme.localhost:8080") == "acme")
    }

    @Test(arguments: ["", ".", "example..com", "example.com:80", "exa mple.com", "example.com/x", "10.0.0.1", "[::1]", "ex%2ecom", String(repeating: "a", count: 64) + ".com"])
    func aBadBaseDomainIsRefused(base: String) {
        #expect(throws: TenantedError.self) { try TenantResolver.subdomain(of: base) }
    }

    @Test func otherResolvers() async throws {
        #expect(try await candidate(.firstHostLabel(), host: "acme.anything.net") == "acme")
        #expect(try await candidate(.firstHostLabel(), host: "localhost") == nil)
        #expect(try await candidate(.firstHostLabel(), host: "www.acme.net") == nil)
        #expect(try await candidate(.host, host: "acme:8080") == "acme")
        #expect(try await candidate(.host, host: "192.168.1.1") == nil)
        let map = TenantResolver.hostMap(["notes.acme.com": try TenantID("acme")])
        #expect(try await candidate(map, host: "Notes.Acme.com") == "acme")
        #expect(try await candidate(map, host: "notes.globex.com") == nil)
        #expect(try await candidate(.header(), headers: [("X-Tenant", "acme")]) == "acme")
        #expect(try await candidate(.header("Tenant"), headers: [("tenant", "globex")]) == "globex")
        #expect(try await candidate(.header(), headers: [("X-Tenant", "")]) == nil)
        #expect(try await candidate(.header()) == nil)
        #expect(try await candidate(.pathPrefix, path: "/acme/notes/1") == "acme")
        #expect(try await candidate(.pathPrefix, path: "/") == nil)
        #expect(try await candidate(TenantResolver { $0.query[String.self, at: "tenant"] }, path: "/notes?tenant=acme") == "acme")
        // A resolver only proposes: an invalid candidate is refused by the middleware (tested end to end).
        #expect(try await candidate(.header(), headers: [("X-Tenant", "../etc")]) == "../etc")
    }
}
