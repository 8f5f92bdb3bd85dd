import Foundation

/// What the backends of a PostgreSQL server are doing: for the report of a test that stalled (a
/// request without an answer, a scenario past its guard), to show which statement waits for which
/// lock and which backend holds it.
package enum PostgresActivity {
    /// One row per client backend that is not idle (idle in a transaction included): pid, database,
    /// application, state, what it waits for, which backends block it, how long its transaction has
    /// been open, and the start of its statement.
    package static let query = """
        SELECT concat_ws(' | ', pid::text, datname::text, nullif(application_name, ''), state,
            wait_event_type || ':' || wait_event,
            'blocked by ' || nullif(pg_blocking_pids(pid)::text, '{}'),
            'in transaction ' || round(extract(epoch FROM now() - xact_start))::text || ' s',
            left(regexp_replace(query, '[[:space:]]+', ' ', 'g'), 160))
        FROM pg_stat_activity
        WHERE pid <> pg_backend_pid() AND backend_type = 'client backend' AND state <> 'idle'
        ORDER BY xact_start NULLS LAST
        """

    /// The header naming ``query``'s columns.
    package static let header = "pid | database | application | state | waiting for | blocked by | transaction age | statement"

    /// ``query`` run by `psql` against `url` (at most 20 s), or why it could not be.
    package static func snapshot(url: String) async -> String {
        guard let psql = ["/usr/bin/psql", "/usr/local/bin/psql"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
            return "(no psql to read pg_stat_activity with)"
        }
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: psql)
                process.arguments = [url, "-X", "-A", "-t", "-c", query]
                var environment = ProcessInfo.processInfo.environment
                environment["PGCONNECT_TIMEOUT"] = "10"
                process.environment = environment
                do {
                    let ended = try ChildProcess.runToEnd(process, limit: .seconds(20))
                    let rows = ended.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                    continuation.resume(returning: ended.status == 0
                        ? "\(header)\n\(rows.isEmpty ? "(no backend busy)" : rows)"
                        : "psql failed (\(ended.status)): \(ended.stderr)")
                } catch {
                    continuation.resume(returning: "psql did not answer: \(error)")
                }
            }
        }
    }
}
