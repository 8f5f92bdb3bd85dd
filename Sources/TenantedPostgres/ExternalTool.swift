import Foundation
import Tenanted

/// Runs PostgreSQL's command-line tools without blocking a thread of the cooperative pool.
enum ExternalTool {
    /// `configured`, else `name` on `PATH`, else in the newest `/usr/lib/postgresql/*/bin`.
    static func locate(_ name: String, configured: String?) throws(TenantedError) -> String {
        let manager = FileManager.default
        if let configured {
            guard manager.isExecutableFile(atPath: configured) else {
                throw TenantedError(.invalidConfiguration, "\(name) at '\(configured)' is not an executable file")
            }
            return configured
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") where manager.isExecutableFile(atPath: "\(directory)/\(name)") {
            return "\(directory)/\(name)"
        }
        let versions = ((try? manager.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .compactMap { Int($0) }.sorted(by: >)
        for version in versions where manager.isExecutableFile(atPath: "/usr/lib/postgresql/\(version)/bin/\(name)") {
            return "/usr/lib/postgresql/\(version)/bin/\(name)"
        }
        throw TenantedError(.invalidConfiguration, "moving, backing up and restoring tenants need \(name) (apt-get install postgresql-client), or set its path in PostgresStore.Configuration")
    }

    /// Runs `executable` and waits for it; a non-zero exit throws with the last lines it printed.
    static func run(_ executable: String, arguments: [String], environment: [String: String], what: String) async throws {
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("tenanted-tool-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errors) }
        let errorHandle = try FileHandle(forWritingTo: errors)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        // The caller's libpq settings (PGSERVICE, PGSSLROOTCERT…) must not redirect the tool.
        var inherited = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PG") }
        inherited.merge(environment) { $1 }
        process.environment = inherited
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errorHandle
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: TenantedError(.storeFailure, "\(what): could not start the tool", underlying: error, detail: executable))
            }
        }
        try? errorHandle.close()
        guard status == 0 else {
            let output = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
            let tail = output.split(separator: "\n").suffix(3).joined(separator: " / ")
            // The tool's output names hosts, users and temporary paths: private detail, not the message.
            throw TenantedError(.storeFailure, "\(what) failed (exit status \(status))", detail: tail)
        }
    }
}
