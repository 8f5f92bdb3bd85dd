import Foundation
import Tenanted
import TenantedFluentSQLite
import TenantedSQLite
import TenantedTestSupport
import Testing

/// Issue 7, tests 2 and 6, through the demo's real HTTP server on loopback.
@Suite("Isolation through HTTP")
struct HTTPIsolationTests {
    /// Per tenant: the notes the server acknowledged, id → title.
    final class NoteLog: Sendable {
        let notes: [Locked<[String: String]>]
        let all = Locked<[(tenant: Int, id: String)]>([])
        init(count: Int) { notes = (0..<count).map { _ in Locked([:]) } }
    }

    @Test("many clients, random Host headers, 8 open pools: every response holds only its tenant's notes")
    func concurrentClientsWithRandomHosts() async throws {
        let tenantCount = 40
        let requests = Soak.choose(4_000, soak: 100_000)
        try await withDemoServer(environment: ["TENANTED_MAX_POOLS": "8"]) { server in
            let tenancy = server.tenancy
            #expect(tenancy.pools.configuration.maximumOpenPools == 8, "TENANTED_MAX_POOLS reached the registry")
            let names = (0..<tenantCount).map { "client\($0)" }
            for name in names { try await server.tenancy.createTenant(TenantID(name), ifNotExists: false) }
            let log = NoteLog(count: tenantCount)
            let sent = Locked(0)
            let problems = Locked<[String]>([])
            let deadline = ContinuousClock.now + Soak.choose(Duration.seconds(120), soak: .seconds(3600))
            let done = try await withGuard("the HTTP clients", limit: Soak.choose(.seconds(240), soak: .seconds(4000))) {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<24 {
                        group.addTask {
                            while sent.withLock({ $0 += 1; return $0 <= requests }), ContinuousClock.now < deadline {
                                let index = Int.random(in: 0..<tenantCount)
                                if let problem = try await Self.randomRequest(server, tenant: index, name: names[index], log: log) {
                                    problems.append(problem)
                                }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                return true
            }
            #expect(done == true)
            #expect(sent.value >= requests, "only \(sent.value) requests before the deadline")
            #expect(problems.value.isEmpty, "\(problems.value.prefix(10))")
            // Nothing lost: each tenant lists exactly the notes it acknowledged.
            for (index, name) in names.enumerated() {
                let response = try await server.request("/notes", host: "\(name).localhost")
                let listed = (response.json as? [[String: Any]]) ?? []
                let found = Dictionary(uniqueKeysWithValues: listed.compactMap { note in
                    (note["id"] as? String).map { ($0, note["title"] as? String ?? "") }
                })
                #expect(found == log.notes[index].value, "\(name) lists other notes than it acknowledged")
            }
            print("HTTP isolation: \(min(sent.value, requests)) requests, \(log.all.value.count) notes created over \(tenantCount) tenants")
        }
    }

    /// One random request as tenant `index`; returns a description of anything wrong.
    static func randomRequest(_ server: DemoServer, tenant index: Int, name: String, log: NoteLog) async throws -> String? {
        let host = "\(name).localhost"
        switch Int.random(in: 0..<10) {
        case 0..<3:
            let title = "\(name):\(UUID().uuidString)"
            let response = try await server.request("POST", "/notes", host: host, json: #"{"title": "\#(title)"}"#)
            guard response.status == 201, let note = response.json as? [String: Any], let id = note["id"] as? String else {
                return "POST as \(name): \(response.status) \(response.body)"
            }
            if note["tenant"] as? String != name || note["title"] as? String != title { return "POST as \(name) answered \(note)" }
            log.notes[index].withLock { $0[id] = title }
            log.all.append((index, id))
        case 3..<7:
            let response = try await server.request("/notes", host: host)
            guard response.status == 200, let notes = response.json as? [[String: Any]] else {
                return "GET as \(name): \(response.status) \(response.body)"
            }
            for note in notes where note["tenant"] as? String != name || (note["title"] as? String)?.hasPrefix(name + ":") != true {
                return "GET /notes as \(name) returned \(note)"
            }
        case 7..<9:
            // Another tenant's note, asked for by id in this tenant, does not exist here.
            guard let other = log.all.withLock({ $0.randomElement() }) else { return nil }
            let response = try await server.request("/notes/\(other.id)", host: host)
            if other.tenant == index {
                // Our own note: present unless deleted meanwhile by another client.
                if response.status == 200, (response.json as? [String: Any])?["tenant"] as? String != name {
                    return "GET own note as \(name) returned \(response.body)"
                }
            } else if response.status != 404 {
                return "GET \(other.tenant)'s note \(other.id) as \(name): \(response.status) \(response.body)"
            }
        default:
            // Delete one of our own notes (claimed first, so no other client deletes it too).
            guard let id = log.notes[index].withLock({ notes -> String? in
                guard let id = notes.keys.randomElement() else { return nil }
                notes[id] = nil
                return id
            }) else { return nil }
            let response = try await server.request("DELETE", "/notes/\(id)", host: host)
            if response.status != 204 { return "DELETE own note as \(name): \(response.status) \(response.body)" }
        }
        return nil
    }

    @Test("destroying a tenant under load: its requests end cleanly, then 404; other tenants are untouched")
    func destroyWhileInUse() async throws {
        try await withDemoServer(environment: ["TENANTED_MAX_POOLS": "8"]) { server in
            let acme = try TenantID("acme")
            let statuses = Locked<[String: [Int]]>([:])
            let destroyed = Gate()
            let stop = Gate()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for client in 0..<12 {
                    let name = client.isMultiple(of: 2) ? "acme" : "globex"
                    group.addTask {
                        var afterDestroy = 0
                        while !stop.isOpen {
                            let wasDestroyed = destroyed.isOpen
                            let response = try await server.request(
                                client % 4 < 2 ? "GET" : "POST", "/notes", host: "\(name).localhost",
                                json: client % 4 < 2 ? nil : #"{"title": "t"}"#
                            )
                            let key = "\(name) \(wasDestroyed ? "after" : "during")"
                            statuses.withLock { $0[key, default: []].append(response.status) }
                            if wasDestroyed { afterDestroy += 1 }
                            if afterDestroy >= 20 { return }
                        }
                    }
                }
                // Destroy only once the load has reached acme (a fixed pause was too short on a loaded
                // machine), bounded so a server that never answers fails the expectation below.
                let loadStarted = ContinuousClock.now
                while ContinuousClock.now - loadStarted < .seconds(30),
                      !statuses.withLock({ $0["acme during", default: []].contains { $0 == 200 || $0 == 201 } }) {
                    try await Task.sleep(for: .milliseconds(20))
                }
                try await Task.sleep(for: .milliseconds(100))
                let finished: Void? = try await withGuard("destroyTenant under load") { try await server.tenancy.destroyTenant(acme) }
                #expect(finished != nil)
                destroyed.open()
                try await group.waitForAll()
                stop.open()
            }
            let seen = statuses.value
            // While the destroy ran: success or a clean 404, never a 5xx or a dropped connection.
            #expect(seen["acme during", default: []].allSatisfy { [200, 201, 404].contains($0) }, "\(seen["acme during"] ?? [])")
            #expect(seen["acme during", default: []].contains { $0 == 200 || $0 == 201 }, "the load reached acme before the destroy")
            #expect(seen["acme after", default: []].allSatisfy { $0 == 404 }, "\(seen["acme after"] ?? [])")
            #expect(seen["globex during", default: []].allSatisfy { $0 == 200 || $0 == 201 })
            #expect(seen["globex after", default: []].allSatisfy { $0 == 200 || $0 == 201 })
            #expect(try await server.tenancy.tenants().map(\.rawValue) == ["globex"])
            #expect(!server.directory.exists("storage/tenants/acme"))
        }
    }
}
