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
    static func probe(_ candidates: ArraySlice<(tenant: TenantID, path: String)>) -> (ready: [TenantID], held: [TenantID]) {
        var ready: [TenantID] = []
        var held: [TenantID] = []
        ready.reserveCapacity(candidates.count)
        for (tenant, path) in candidates {
            switch readiness(path) {
            case .ready: ready.append(tenant)
            case .held: held.append(tenant)
            case .absent: break
            }
        }
        return (ready, held)
    }

    /// Every tenant whose database path exists in the directory tree, ready or not, with that path:
    /// names only, no file is opened or locked.
    func tenantCandidates() throws -> [(tenant: TenantID, path: String)] {
        let patterns = try template.components.indices.map { index in
            template.isLiteral(index) ? nil : try template.pattern(index)
        }
        var found: [(tenant: TenantID, path: String)] = []
        func walk(_ directory: String, _ index: Int, _ names: [Substring]) throws {
            let isLast = index == template.components.count - 1
            let children: [(String, [Substring])]
            if let pattern = patterns[index] {
                let entries: [String]
                switch DirectoryListing.read(directory) {
                case .names(let names): entries = names
                // A missing directory holds no tenants; an unreadable one must not hide them.
                case .missing: return
                case .failed(let code):
                    throw TenantedError(.storeFailure, "cannot list the tenants' directory (errno \(code))", detail: directory)
                }
                if template.isTenantOnly(index) {
                    // The common layout (`tenants/%{tenant}/…`): 100,000 entries cost a name check
                    // each rather than a regular-expression match (about ten times faster).
                    children = entries.compactMap { entry in TenantID.isValid(entry) ? (entry, [entry[...]]) : nil }
                } else if template.isBucketOnly(index) {
                    // A bucketed layout has up to 65,536 bucket directories: a byte check each, not a
                    // regular-expression match.
                    children = entries.compactMap { entry in PathTemplate.isBucketName(entry) ? (entry, []) : nil }
                } else {
                    children = entries.compactMap { entry in
                        guard let match = try? pattern.wholeMatch(in: entry) else { return nil }
                        let captured = match.output.dropFirst().compactMap(\.substring)
                        return (entry, captured)
                    }
                }
            } else {
                children = [(template.components(for: placeholder)[index], [])]
            }
            for (entry, captured) in children {
                let path = directory + "/" + entry
                let names = names + captured
                if isLast {
                    guard let first = names.first, names.allSatisfy({ $0 == first }),
                        let tenant = try? TenantID(String(first)),
                        databasePath(for: tenant) == path
                    else { continue }
                    found.append((tenant, path))
                } else {
                    try walk(path, index + 1, names)
                }
            }
        }
        try walk(root, 0, [])
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
