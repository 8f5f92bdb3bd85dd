import Foundation
import Logging
import NIOPosix
import SQLiteNIO
import Synchronization
import Tenanted

extension SQLiteStore {
    /// Walks the template's components under the root and returns every ready tenant, and the
    /// tenants whose ready-lock was held (to ask again), in no particular order.
    ///
    /// The walk runs on the thread pool; the readiness probes (a `stat`, an `open`, two `flock`s and
    /// a `close` per tenant: most of a listing of 100,000 tenants) run there too, in slices of
    /// ``listingSlice`` candidates spread over its threads.
    func listTenants() async throws -> (ready: [TenantID], held: [TenantID]) {
        let candidates = try await onThreadPool { try tenantCandidates() }
        guard candidates.count > Self.listingSlice else { return Self.probe(candidates[...]) }
        return try await withThrowingTaskGroup(of: (ready: [TenantID], held: [TenantID]).self) { group in
            for start in stride(from: 0, to: candidates.count, by: Self.listingSlice) {
                let slice = candidates[start..<min(start + Self.listingSlice, candidates.count)]
                group.addTask { try await onThreadPool { Self.probe(slice) } }
            }
            var ready: [TenantID] = []
            var held: [TenantID] = []
            ready.reserveCapacity(candidates.count)
            for try await part in group {
                ready += part.ready
                held += part.held
            }
            return (ready, held)
        }
    }

    /// Candidates probed per thread-pool work item when listing.
    static let listingSlice = 4_096

    /// The readiness of each candidate: ready ones, and those whose ready-lock was held.
    static func probe(_ candidates: ArraySlice<Candidate>) -> (ready: [TenantID], held: [TenantID]) {
        var ready: [TenantID] = []
        var held: [TenantID] = []
        ready.reserveCapacity(candidates.count)
        for candidate in candidates {
            switch readiness(candidate.path, isKnownFile: candidate.isKnownFile) {
            case .ready: ready.append(candidate.tenant)
            case .held: held.append(candidate.tenant)
            case .absent: break
            }
        }
        return (ready, held)
    }

    /// A tenant found in the directory tree: its database's path, and whether the walk already saw
    /// that path as a regular file (its directory's entry said so), so the probe need not `stat` it.
    struct Candidate: Sendable {
        var tenant: TenantID
        var path: String
        var isKnownFile: Bool
    }

    /// Every tenant whose database path exists in the directory tree, ready or not, with that path:
    /// names only, no file is opened or locked.
    ///
    /// A path counts only when it is exactly the tenant's path: every `%{tenant}` in it captured
    /// the same valid name, and every bucket folder on the way is that name's bucket (a tenant's
    /// file in another tenant's bucket is not a tenant).
    func tenantCandidates() throws -> [Candidate] {
        let patterns = try template.components.indices.map { index in
            template.isLiteral(index) ? nil : try template.pattern(index)
        }
        let affixes = template.components.indices.map { template.tenantAffixes($0) }
        var found: [Candidate] = []
        /// `names`: the tenant names captured so far; `buckets`: each bucket folder walked, as its
        /// level and the byte its two hex digits spell.
        func walk(_ directory: String, _ index: Int, _ names: [Substring], _ buckets: [(level: Int, byte: UInt8)]) throws {
            let isLast = index == template.components.count - 1
            var children: [(entry: String, captured: [Substring], bucket: (level: Int, byte: UInt8)?, isFile: Bool)] = []
            if let pattern = patterns[index] {
                let names: [String]
                let kinds: [DirectoryListing.Kind]
                switch DirectoryListing.readEntries(directory) {
                case (.names(let entries), let entryKinds): (names, kinds) = (entries, entryKinds)
                // A missing directory holds no tenants; an unreadable one must not hide them.
                case (.missing, _): return
                case (.failed(let code), _):
                    throw TenantedError(.storeFailure, "cannot list the tenants' directory (errno \(code))", detail: directory)
                }
                children.reserveCapacity(names.count)
                for (entry, kind) in zip(names, kinds) {
                    // A folder is never a database, and a file never a folder on the way to one.
                    if isLast ? kind == .directory : kind == .file { continue }
                    let isFile = isLast && kind == .file
                    if let (prefix, suffix) = affixes[index] {
                        // The common layouts (`tenants/%{tenant}/…`, `…/%{tenant}.sqlite3`): 100,000
                        // entries cost a byte comparison and a name check each rather than a
                        // regular-expression match (about ten times faster).
                        if let name = PathTemplate.tenantName(in: entry, prefix: prefix, suffix: suffix) {
                            children.append((entry, [name], nil, isFile))
                        }
                    } else if let level = template.bucketLevel(index) {
                        // A bucketed layout has up to 65,536 bucket folders: a byte check each, not
                        // a regular-expression match.
                        if let byte = PathTemplate.bucketByte(entry) { children.append((entry, [], (level, byte), isFile)) }
                    } else if let match = try? pattern.wholeMatch(in: entry) {
                        children.append((entry, match.output.dropFirst().compactMap(\.substring), nil, isFile))
                    }
                }
            } else {
                children = [(template.components(for: placeholder)[index], [], nil, false)]
            }
            for child in children {
                let path = directory + "/" + child.entry
                let names = names + child.captured
                let buckets = child.bucket.map { buckets + [$0] } ?? buckets
                if isLast {
                    guard let first = names.first, names.allSatisfy({ $0 == first }),
                        let tenant = try? TenantID(String(first)),
                        buckets.allSatisfy({ PathTemplate.bucketByte(of: tenant, level: $0.level) == $0.byte })
                    else { continue }
                    found.append(Candidate(tenant: tenant, path: path, isKnownFile: child.isFile))
                } else {
                    try walk(path, index + 1, names, buckets)
                }
            }
        }
        try walk(root, 0, [], [])
        return found
    }

    /// Any valid tenant, used only to spell the literal components of the template.
    private var placeholder: TenantID { TenantID.placeholder }
}

extension TenantID {
    /// A fixed valid name, for spelling literal template components.
    static let placeholder: TenantID = {
        do { return try TenantID("x") } catch { preconditionFailure("'x' is a valid tenant name") }
    }()
}
