import Foundation
import Logging
import NIOPosix
import SQLiteNIO
import Synchronization
import Tenanted

extension SQLiteStore {
    /// Walks the template's components under the root and returns every ready tenant, and the
    /// tenants whose ready-lock was held (to ask again).
    func listTenants() throws -> (ready: [TenantID], held: [TenantID]) {
        var found: [TenantID] = []
        var held: [TenantID] = []
        for (tenant, path) in try tenantCandidates() {
            switch Self.readiness(path) {
            case .ready: found.append(tenant)
            case .held: held.append(tenant)
            case .absent: break
            }
        }
        return (found, held)
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
