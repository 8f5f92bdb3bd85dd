import Foundation
import Tenanted
import Testing

@Suite("TenantID accepts only the allowlist")
struct TenantIDTests {
    @Test("valid names are kept as they are", arguments: ["a", "acme", "acme-corp", "acme_corp", "0", "12345678", "a-", String(repeating: "x", count: 63)])
    func valid(name: String) throws {
        let tenant = try TenantID(name)
        #expect(tenant.rawValue == name)
        #expect(tenant.description == name)
        #expect(TenantID.isValid(name))
    }

    @Test(
        "hostile and malformed names are refused with badTenantName and the rule that failed",
        arguments: [
            ("", "empty"),
            (".", "'.'"),
            ("..", "'.'"),
            ("a/b", "'/'"),
            ("a\\b", "'\\'"),
            ("%2e%2e", "'%'"),
            ("a?b", "'?'"),
            ("a#b", "'#'"),
            ("a'b", "'''"),
            ("a\"b", "'\"'"),
            ("a`b", "'`'"),
            ("a\0b", "U+0000"),
            ("a b", "U+0020"),
            ("a\nb", "U+000A"),
            (String(repeating: "a", count: 64), "longer than 63"),
            ("\u{0430}cme", "U+0430"),  // Cyrillic а
            ("acm\u{0435}", "U+0435"),  // Cyrillic е
            ("café", "U+00E9"),
            ("-acme", "must start with a letter or a digit"),
            ("_acme", "must start with a letter or a digit"),
            ("Acme", "uppercase"),
            ("ACME", "uppercase"),
            ("acme.example", "'.'"),
            ("a:b", "':'"),
            ("a*", "'*'"),
        ]
    )
    func invalid(name: String, rule: String) {
        #expect(!TenantID.isValid(name))
        do {
            _ = try TenantID(name)
            Issue.record("\(name.debugDescription) was accepted")
        } catch {
            #expect(error.code == .badTenantName)
            #expect(error.message.contains(rule), "message \(error.message.debugDescription) should mention \(rule)")
            #expect(!error.message.contains("\0"))
        }
    }

    @Test("a Codable round trip keeps the name, and decoding validates")
    func codable() throws {
        let tenant = try TenantID("acme")
        let data = try JSONEncoder().encode([tenant])
        #expect(String(decoding: data, as: UTF8.self) == #"["acme"]"#)
        #expect(try JSONDecoder().decode([TenantID].self, from: data) == [tenant])
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([TenantID].self, from: Data(#"["../etc"]"#.utf8))
        }
    }

    @Test("names sort by their text")
    func ordering() throws {
        let names = try ["globex", "acme", "initech"].map(TenantID.init)
        #expect(names.sorted().map(\.rawValue) == ["acme", "globex", "initech"])
    }
}

@Suite("TenantedError")
struct TenantedErrorTests {
    @Test("description shows code and message but never the detail or underlying error")
    func description() {
        struct Leaky: Error, CustomStringConvertible { var description: String { "/secret/path" } }
        let error = TenantedError(.storeFailure, "could not open", underlying: Leaky(), detail: "/var/db/acme.sqlite3")
        #expect(error.description == "storeFailure: could not open")
        #expect(!error.description.contains("/"))
        #expect(error.debugDescription.contains("/var/db/acme.sqlite3"))
        #expect(error.debugDescription.contains("/secret/path"))
    }
}
