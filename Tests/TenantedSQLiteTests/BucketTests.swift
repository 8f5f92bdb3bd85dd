import TenantedTestSupport
import Tenanted
import TenantedSQLite
import Testing

@Suite("Bucketed path templates")
struct BucketTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    /// The two bucket levels of `name`, computed here independently of the store: the first two bytes
    /// (most significant first) of the 32-bit FNV-1a hash of the UTF-8 name, in lowercase hex.
    static func expectedBucket(of name: String) -> (String, String) {
        var hash: UInt32 = 0x811C_9DC5
        for byte in name.utf8 {
            hash = (hash ^ UInt32(byte)) &* 0x0100_0193
        }
        func hex(_ byte: UInt32) -> String {
            let digits = String(byte & 0xFF, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }
        return (hex(hash >> 24), hex(hash >> 16))
    }

    @Test("the FNV-1a reference used by these tests matches the published test vector")
    func referenceHash() {
        // FNV-1a 32-bit of "a" is 0xe40c292c.
        #expect(Self.expectedBucket(of: "a") == ("e4", "0c"))
    }

    @Test("a bucketed path has two levels of two hex digits from the name's FNV-1a hash")
    func bucketLevels() throws {
        let store = try directory.store(template: "t/%{bucket}/%{tenant}/db.sqlite3")
        // Hard-coded: FNV-1a("acme") = 0x45fd71af.
        #expect(Self.expectedBucket(of: "acme") == ("45", "fd"))
        #expect(store.databasePath(for: try TenantID("acme")) == directory.path + "/t/45/fd/acme/db.sqlite3")

        for name in ["a", "acme", "globex", "tenant-0042", "z_9"] {
            let (first, second) = Self.expectedBucket(of: name)
            let path = store.databasePath(for: try TenantID(name))
            #expect(path == directory.path + "/t/\(first)/\(second)/\(name)/db.sqlite3")
            let levels = path.dropFirst(directory.path.count + 1).split(separator: "/")
            #expect(levels[1].count == 2 && levels[2].count == 2)
            #expect(levels[1].allSatisfy(\.isHexDigit) && levels[2].allSatisfy(\.isHexDigit))
        }
    }

    @Test("the bucket of a name is the same for every store and every call")
    func stable() throws {
        let one = try directory.store(template: "t/%{bucket}/%{tenant}/db.sqlite3")
        let two = try directory.store(template: "t/%{bucket}/%{tenant}/db.sqlite3")
        let acme = try TenantID("acme")
        #expect(one.databasePath(for: acme) == two.databasePath(for: acme))
        #expect(one.databasePath(for: acme) == one.databasePath(for: acme))
    }

    @Test("tenants are created in and listed through their buckets")
    func listedThroughBuckets() async throws {
        let store = try directory.store(template: "t/%{bucket}/%{tenant}/db.sqlite3")
        let names = ["acme", "globex", "initech", "umbrella"]
        for name in names { try await store.create(try TenantID(name)) { _ in } }
        #expect(try await store.tenants().map(\.rawValue) == names.sorted())
        for name in names {
            let (first, second) = Self.expectedBucket(of: name)
            #expect(directory.exists("t/\(first)/\(second)/\(name)/db.sqlite3"))
        }
        // A tenant file in the wrong bucket is not a tenant.
        try directory.makeFile("t/00/00/hooli/db.sqlite3")
        #expect(Self.expectedBucket(of: "hooli") != ("00", "00"))
        #expect(try await store.tenants().map(\.rawValue) == names.sorted())
        #expect(try await store.exists(try TenantID("hooli")) == false)
    }

    @Test("listing walks every bucket folder, whatever hex digits it has, and skips folders that are not buckets")
    func everyBucketListed() async throws {
        let store = try directory.store(template: "t/%{bucket}/%{tenant}/db.sqlite3")
        let names = (100..<220).map { "tenant-\($0)" }
        for name in names { try await store.create(try TenantID(name)) { _ in } }
        // 120 names spread over bucket folders using every hex digit, letters included.
        let firstLevel = Set(names.map { Self.expectedBucket(of: $0).0 })
        #expect(Set(firstLevel.joined()).isSuperset(of: "0123456789abcdef"))
        // Folders a bucket is never spelled as: upper case, one or three digits, not hex.
        for stray in ["t/4F/fd/x/db.sqlite3", "t/4/fd/x/db.sqlite3", "t/45f/fd/x/db.sqlite3", "t/g5/fd/x/db.sqlite3", "t/45/FD/x/db.sqlite3"] {
            try directory.makeFile(stray)
        }
        #expect(try await store.tenants().map(\.rawValue) == names)
    }
}
