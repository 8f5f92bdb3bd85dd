import Foundation
@testable import TenantedDemo
import Tenanted
import TenantedTestSupport
import TenantedVapor
import Testing
import Vapor

/// The app integrations end to end through the demo's real HTTP server: note URLs, the tenant cache
/// behind `/stats`, tenant files and the live websocket.
@Suite struct DemoIntegrationsTests {
    @Test("a note carries its absolute URL on its tenant's host; /stats counts the tenant's notes")
    func urlsAndStats() async throws {
        try await withDemoServer { server in
            let created = try await server.request("POST", "/notes", host: "acme.localhost", json: #"{"title": "hello"}"#)
            let note = try #require(created.json as? [String: Any])
            let id = try #require(note["id"] as? String)
            #expect(note["url"] as? String == "http://acme.localhost:\(server.port)/notes/\(id)")
            let listed = try #require(try await server.request("/notes", host: "acme.localhost").json as? [[String: Any]])
            #expect(listed.first?["url"] as? String == note["url"] as? String)

            let acme = try await server.request("/stats", host: "acme.localhost")
            #expect(acme.status == 200)
            #expect(Self.stats(acme) == "acme 1")
            let globex = try await server.request("/stats", host: "globex.localhost")
            #expect(Self.stats(globex) == "globex 0", "globex's count is its own, never acme's cached one")
            #expect(try await server.request("/stats", host: "localhost").status == 404)
            #expect(try await server.request("/stats", host: "nobody.localhost").status == 404)
        }
    }

    /// `{"tenant": T, "notes": N}` as `"T N"`, or `nil` for anything else.
    static func stats(_ response: RawHTTPResponse) -> String? {
        guard let object = response.json as? [String: Any], object.count == 2,
              let tenant = object["tenant"] as? String, let notes = object["notes"] as? Int else { return nil }
        return "\(tenant) \(notes)"
    }

    @Test("tenant files: put, get, list, delete; another tenant never sees them; bad names are 400; destroy removes them")
    func files() async throws {
        try await withDemoServer { server in
            let put = try await server.request("PUT", "/files/hello.txt", host: "acme.localhost", body: "hi from acme")
            #expect(put.status == 201)
            let info = put.json as? [String: Any]
            #expect(info?["name"] as? String == "hello.txt" && info?["size"] as? Int == 12 && info?.count == 2)
            let got = try await server.request("/files/hello.txt", host: "acme.localhost")
            #expect(got.status == 200 && got.body == "hi from acme")
            #expect(try await server.request("/files", host: "acme.localhost").json as? [String] == ["hello.txt"])
            #expect(try await server.request("/files/hello.txt", host: "globex.localhost").status == 404)
            #expect(try await server.request("/files", host: "globex.localhost").json as? [String] == [])

            for bad in ["..%2Fescape", ".hidden", "a%20b", "%2e%2e", String(repeating: "a", count: 201)] {
                let refused = try await server.request("PUT", "/files/\(bad)", host: "acme.localhost", body: "x")
                #expect(refused.status == 400, "\(bad)")
                #expect((refused.json as? [String: String])?["error"] == "invalid file name", "\(bad)")
            }
            #expect(try await server.request("/files", host: "acme.localhost").json as? [String] == ["hello.txt"])

            #expect(try await server.request("DELETE", "/files/hello.txt", host: "acme.localhost").status == 204)
            #expect(try await server.request("/files/hello.txt", host: "acme.localhost").status == 404)
            #expect(try await server.request("DELETE", "/files/hello.txt", host: "acme.localhost").status == 404)

            _ = try await server.request("PUT", "/files/kept.txt", host: "acme.localhost", body: "kept")
            let folder = server.directory.appending("storage/tenants/acme/files")
            #expect(FileManager.default.fileExists(atPath: folder + "/kept.txt"), "beside the tenant's database")
            try await server.tenancy.destroyTenant(TenantID("acme"))
            #expect(!FileManager.default.fileExists(atPath: folder), "destroying the tenant removed its files")
            #expect(!server.directory.contents().contains { $0.hasPrefix("storage/tenants/acme") })
        }
    }

    @Test("/live streams the own tenant's note events only; no tenant or an unknown one is refused before the upgrade")
    func liveEvents() async throws {
        try await withDemoServer { server in
            await #expect(throws: RawWebSocket.Refused.self) { _ = try await RawWebSocket.connect(port: server.port, path: "/live", host: "localhost") }
            let unknown = await #expect(throws: RawWebSocket.Refused.self) {
                _ = try await RawWebSocket.connect(port: server.port, path: "/live", host: "nobody.localhost")
            }
            #expect(unknown?.status == 404)

            let socket = try await RawWebSocket.connect(port: server.port, path: "/live", host: "acme.localhost")
            // The subscription starts in the upgraded handler, just after the 101: wait until it is there.
            let broadcaster = try #require(server.app.storage[DemoServices.Key.self]).broadcaster
            let acme = try TenantID("acme")
            while broadcaster.subscriberCount(of: acme) == 0 { try await Task.sleep(for: .milliseconds(10)) }
            _ = try await server.request("POST", "/notes", host: "globex.localhost", json: #"{"title": "not for acme"}"#)
            _ = try await server.request("POST", "/notes", host: "acme.localhost", json: #"{"title": "for acme"}"#)
            let text = try #require(try await socket.nextText())
            let created = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            #expect(created["event"] as? String == "created")
            let note = try #require(created["note"] as? [String: Any])
            #expect(note["title"] as? String == "for acme" && note["tenant"] as? String == "acme")
            let id = try #require(note["id"] as? String)
            _ = try await server.request("PATCH", "/notes/\(id)", host: "acme.localhost", json: #"{"title": "edited"}"#)
            _ = try await server.request("DELETE", "/notes/\(id)", host: "acme.localhost")
            var events: [String] = []
            while events.count < 2, let text = try await socket.nextText() {
                let event = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
                #expect((event["note"] as? [String: Any])?["id"] as? String == id, "only acme's own note's events")
                events.append(event["event"] as? String ?? "?")
            }
            #expect(events == ["updated", "deleted"])

            // Destroying the tenant closes its live sockets.
            try await server.tenancy.destroyTenant(acme)
            #expect(try await socket.nextText() == nil, "the socket closes with no further event")
            #expect(broadcaster.subscriberCount(of: acme) == 0)
        }
    }
}
