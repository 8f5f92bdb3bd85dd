import Foundation
import Tenanted
import TenantedTestSupport
import Testing

@Suite("Tenant cache keys, URLs, jobs and broadcasts")
struct TenantIntegrationsTests {
    @Test("cache keys of two tenants never collide, whatever the keys hold, and parse back")
    func cacheKeys() throws {
        let tenants = try ["a", "ab", "a-b", "abc", "t2", "b"].map { try TenantID($0) }
        let keys = ["", "b", "bc", "c", ":c", "b:c", "t2:ab:", "t1:a:x", "ü", "\0"]
        var seen: [String: (TenantID, String)] = [:]
        for tenant in tenants {
            for key in keys {
                let scoped = TenantCacheKey.scoped(key, for: tenant)
                if let other = seen[scoped] { Issue.record("\(tenant)+\(key.debugDescription) collides with \(other)") }
                seen[scoped] = (tenant, key)
                let parsed = try #require(TenantCacheKey.parse(scoped))
                #expect(parsed.tenant == tenant && parsed.key == key)
            }
        }
        #expect(seen.count == tenants.count * keys.count)
        #expect(TenantCacheKey.scoped("b:c", for: try TenantID("a")) == "t1:a:b:c")
        for bad in ["", "x", "t:a:b", "t0::b", "t9:a:b", "t1:A:b", "t1:ab", "t-1:a:b"] {
            #expect(TenantCacheKey.parse(bad) == nil, "\(bad)")
        }
        #expect(throws: TenantedError.self) { try TenantCacheKey.scoped("k") }
        let inside = try withTenant(try TenantID("acme")) { try TenantCacheKey.scoped("k") }
        #expect(inside == "t4:acme:k")
    }

    @Test("URL templates: valid ones build the tenant's absolute URL, bad ones are refused at configuration")
    func urlTemplates() throws {
        let acme = try TenantID("acme")
        let links = try TenantURLTemplate("https://%{tenant}.example.com")
        #expect(links.url(for: acme, path: "/notes/7") == "https://acme.example.com/notes/7")
        #expect(links.url(for: acme, path: "notes/7") == "https://acme.example.com/notes/7")
        #expect(links.url(for: acme) == "https://acme.example.com")
        #expect(try TenantURLTemplate("http://%{tenant}.localhost:8080/").url(for: acme, path: "/x") == "http://acme.localhost:8080/x")
        #expect(try TenantURLTemplate("HTTPS://%{tenant}.Example.com//").url(for: acme, path: "x") == "HTTPS://acme.Example.com/x")
        #expect(throws: TenantedError.self) { try links.url(path: "/x") }
        #expect(try withTenant(acme) { try links.url(path: "/x") } == "https://acme.example.com/x")

        let bad = [
            "", "https://example.com", "https://%{tenant}.%{tenant}.com", "ftp://%{tenant}.example.com",
            "//%{tenant}.example.com", "https://%{tenant}.example.com/?x=1", "https://%{tenant}.example.com/#f",
            "https://user@%{tenant}.example.com", "https://%{tenant}.exa mple.com", "https://%{tenant}.example.com:0",
            "https://%{tenant}.example.com:99999", "https://%{tenant}.example.com:http", "https://%{tenant}.exämple.com",
            "https://%{tenant}_x.example.com", "https://example.com/%{tenant}", "https://%{tenant}.example.com\n",
            "https://%{tenant}.example.com:", "https://:8080%{tenant}", "https://%{tenant}%{tenant}", "https://%{tenant", "https:/%{tenant}.example.com",
        ]
        for template in bad {
            let error = #expect(throws: TenantedError.self, "\(template.debugDescription)") { try TenantURLTemplate(template) }
            #expect(error?.code == .invalidConfiguration, "\(template.debugDescription)")
        }
    }

    @Test("a job captures the current tenant, refuses to be made outside one, and round-trips as JSON")
    func jobEnvelope() throws {
        struct Invoice: Codable, Equatable, Sendable { var id: Int }
        let acme = try TenantID("acme")
        let outside = #expect(throws: TenantedError.self) { try TenantJob(Invoice(id: 1)) }
        #expect(outside?.code == .noTenant)
        let job = try withTenant(acme) { try TenantJob(Invoice(id: 7)) }
        #expect(job.tenant == acme)
        let data = try JSONEncoder().encode(job)
        #expect(try JSONDecoder().decode(TenantJob<Invoice>.self, from: data) == job)
        let untenanted = try JSONDecoder().decode(TenantJob<Invoice>.self, from: JSONEncoder().encode(TenantJob.untenanted(Invoice(id: 2))))
        #expect(untenanted.tenant == nil && untenanted.payload.id == 2)
        for forged in [#"{"tenant":"../etc","payload":{"id":1}}"#, #"{"tenant":"ACME","payload":{"id":1}}"#, #"{"tenant":"","payload":{"id":1}}"#] {
            #expect(throws: (any Error).self, "\(forged)") { try JSONDecoder().decode(TenantJob<Invoice>.self, from: Data(forged.utf8)) }
        }
    }

    @Test("a broadcast reaches only the publishing tenant's subscribers; closing a tenant ends its streams")
    func broadcasts() async throws {
        let acme = try TenantID("acme"), globex = try TenantID("globex")
        let broadcaster = TenantBroadcaster<String>()
        #expect(throws: TenantedError.self) { try broadcaster.subscribe() }
        #expect(throws: TenantedError.self) { try broadcaster.publish("x") }
        let acmeStreams = try withTenant(acme) { [try broadcaster.subscribe(), try broadcaster.subscribe()] }
        let globexStream = try withTenant(globex) { try broadcaster.subscribe() }
        #expect(broadcaster.subscriberCount(of: acme) == 2)
        #expect(try withTenant(acme) { try broadcaster.publish("acme 1") } == 2)
        #expect(try withTenant(globex) { try broadcaster.publish("globex 1") } == 1)
        #expect(try withTenant(acme) { try broadcaster.publish("acme 2") } == 2)
        #expect(broadcaster.close(acme) == 2)
        #expect(try withTenant(acme) { try broadcaster.publish("after close") } == 0)
        for stream in acmeStreams {
            var received: [String] = []
            for await message in stream { received.append(message) }   // ends: the tenant was closed
            #expect(received == ["acme 1", "acme 2"])
        }
        var iterator = globexStream.makeAsyncIterator()
        #expect(await iterator.next() == "globex 1")
        broadcaster.close(globex)
        #expect(await iterator.next() == nil)
        #expect(broadcaster.subscriberCount(of: globex) == 0)
    }

    @Test("a subscription whose consumer stops is removed")
    func subscriptionEnds() async throws {
        let acme = try TenantID("acme")
        let broadcaster = TenantBroadcaster<Int>()
        let consumer = Task {
            for await _ in broadcaster.subscribe(to: acme) {}
        }
        while broadcaster.subscriberCount(of: acme) == 0 { await Task.yield() }
        consumer.cancel()
        await consumer.value
        #expect(broadcaster.subscriberCount(of: acme) == 0)
    }
}
