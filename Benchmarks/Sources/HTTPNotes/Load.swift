import BenchmarkSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The HTTP workload: the demo (`tenanted-demo serve`) with `plan.tenants` tenants, every one
/// holding the same note, against `http-notes serve` on a copy of one tenant's file; wrk sends
/// `GET /notes/<id>` with a random tenant's `Host` per request on both (the untenanted server ignores
/// it). Each side runs `plan.rounds` times for `plan.seconds` after a warm-up, the first side
/// alternating; a figure adds up its side's requests and time.
enum Load {
    struct Plan: Codable, Sendable {
        var tenants = 1_000
        var rounds = 2
        var seconds = 10
        var warmupSeconds = 3
        var threads = 2
        var connections = 32

        static func quick() -> Plan { Plan(rounds: 1, seconds: 5, warmupSeconds: 2) }
    }

    /// What wrk measured in one run.
    struct Sample: Codable, Sendable {
        var requests: Double
        var seconds: Double
        var p50Millis: Double
        var p99Millis: Double
        /// The server's CPU time (all threads) during the run, in seconds.
        var serverCPUSeconds: Double = 0
        /// The server's context switches (all threads) during the run.
        var serverContextSwitches: Double = 0
    }

    struct Report: Codable, Sendable {
        var generatedAt: String
        var cores: Int
        var loadAverage: [String] = []
        var rootCommit: String?
        var plan: Plan
        var tenanted: [Sample] = []
        var untenanted: [Sample] = []
        var figures: [Figure] = []
    }

    static func run(demo: String, framework: Framework, ports: Int, options: Options) async throws {
        guard let wrk = executable("wrk") else {
            print("http: skipped (wrk is not installed; apt-get install -y wrk)")
            return
        }
        let plan = options.quick ? Plan.quick() : Plan()
        var report = Report(
            generatedAt: ISO8601DateFormatter().string(from: Date()),
            cores: ProcessInfo.processInfo.activeProcessorCount, rootCommit: rootCommit(), plan: plan)
        report.loadAverage.append(loadAverage())
        try await withTemporaryDirectory(named: "http-notes") { directory in
            let storage = directory + "/storage"
            let noteID = try await seed(demo: demo, framework: framework, storage: storage, tenants: plan.tenants, port: ports)
            let baselineFile = directory + "/untenanted.sqlite3"
            try FileManager.default.copyItem(atPath: storage + "/tenants/t0000/main.sqlite3", toPath: baselineFile)
            let script = directory + "/notes.lua"
            try luaScript(noteID: noteID, tenants: plan.tenants).write(toFile: script, atomically: true, encoding: .utf8)

            let tenantedServer = ServerProcess(
                executable: demo,
                arguments: framework.serve + ["--hostname", "127.0.0.1", "--port", "\(ports + 1)", "--no-seed"],
                environment: ["TENANTED_STORAGE": storage, "TENANTED_MAX_POOLS": "\(plan.tenants + 10)", "LOG_LEVEL": "warning"],
                port: ports + 1)
            let untenantedServer = ServerProcess(
                executable: CommandLine.arguments[0],
                arguments: ["serve", "--database", baselineFile, "--port", "\(ports + 2)", "--framework", framework.rawValue],
                environment: [:], port: ports + 2)
            for round in 0..<plan.rounds {
                for side in [round % 2, 1 - round % 2] {
                    let server = side == 0 ? tenantedServer : untenantedServer
                    progress("· http (\(framework)): \(side == 0 ? "tenanted" : "untenanted") round \(round + 1)\n")
                    let sample = try await server.running { pid in
                        _ = try wrkRun(wrk, script: script, port: server.port, seconds: plan.warmupSeconds, plan: plan)
                        let before = try cpuSeconds(of: pid), switchesBefore = try contextSwitches(of: pid)
                        var sample = try wrkRun(wrk, script: script, port: server.port, seconds: plan.seconds, plan: plan)
                        sample.serverCPUSeconds = try cpuSeconds(of: pid) - before
                        sample.serverContextSwitches = try contextSwitches(of: pid) - switchesBefore
                        return sample
                    }
                    if side == 0 { report.tenanted.append(sample) } else { report.untenanted.append(sample) }
                }
            }
        }
        func total(_ samples: [Sample]) -> (rps: Double, p50: Double, p99: Double, cpuMicros: Double, switches: Double) {
            let requests = samples.reduce(0) { $0 + $1.requests }
            let seconds = samples.reduce(0) { $0 + $1.seconds }
            let cpu = samples.reduce(0) { $0 + $1.serverCPUSeconds }
            let switches = samples.reduce(0) { $0 + $1.serverContextSwitches }
            let count = Double(samples.count)
            return (requests / seconds, samples.reduce(0) { $0 + $1.p50Millis } / count,
                    samples.reduce(0) { $0 + $1.p99Millis } / count, cpu / requests * 1_000_000, switches / requests)
        }
        let ours = total(report.tenanted), theirs = total(report.untenanted)
        // Vapor's figures keep their names; Hummingbird's say so.
        let name = (framework == .vapor ? "http" : "http_hummingbird") + "_get_note_\(plan.tenants)_tenants"
        report.figures = [
            Figure(name: name + "_rps", value: ours.rps, unit: "req/s", baseline: theirs.rps, higherIsBetter: true),
            Figure(name: name + "_p50", value: ours.p50, unit: "ms", baseline: theirs.p50),
            Figure(name: name + "_p99", value: ours.p99, unit: "ms", baseline: theirs.p99),
            // What a request costs the server, whatever else the machine runs (req/s is what is left
            // of two shared cores after wrk and everything else).
            Figure(name: name + "_cpu_per_request", value: ours.cpuMicros, unit: "µs", baseline: theirs.cpuMicros),
            // Thread switches per request: the steadiest of the four on a shared machine, and the
            // kernel-scheduling share of the CPU figure.
            Figure(name: name + "_context_switches_per_request", value: ours.switches, unit: "switches", baseline: theirs.switches),
        ]
        report.loadAverage.append(loadAverage())
        print("")
        try publish(report.figures, from: framework == .vapor ? "http-notes" : "http-notes-hummingbird", options: options)
        try writeResults(report, loadAverage: report.loadAverage, to: options.output)
    }

    /// Starts the demo once on an empty storage so that it creates `acme` (and `globex`), posts one
    /// note to acme, stops it, and copies acme's folder to tenants `t0000`…: every tenant then has
    /// the same note. Returns the note's id.
    static func seed(demo: String, framework: Framework, storage: String, tenants: Int, port: Int) async throws -> String {
        progress("· http: seeding \(tenants) tenants\n")
        let server = ServerProcess(
            executable: demo,
            arguments: framework.serve + ["--hostname", "127.0.0.1", "--port", "\(port)"],
            environment: ["TENANTED_STORAGE": storage, "LOG_LEVEL": "warning"], port: port)
        let created = try await server.running { _ in
            try curl(["-sf", "-H", "Host: acme.localhost", "-H", "Content-Type: application/json",
                      "-d", #"{"title": "benchmark", "body": "the note every request reads"}"#,
                      "http://127.0.0.1:\(port)/notes"])
        }
        struct Created: Decodable { var id: String }
        let id = try JSONDecoder().decode(Created.self, from: Data(created.utf8)).id
        let acme = storage + "/tenants/acme"
        for number in 0..<tenants {
            try FileManager.default.copyItem(atPath: acme, toPath: storage + "/tenants/" + String(format: "t%04d", number))
        }
        for name in ["acme", "globex"] { try FileManager.default.removeItem(atPath: storage + "/tenants/" + name) }
        sync()
        return id
    }

    /// wrk's Lua script: `GET /notes/<id>` with the `Host` of a random tenant per request.
    static func luaScript(noteID: String, tenants: Int) -> String {
        """
        math.randomseed(42)
        request = function()
          local host = string.format("t%04d.localhost", math.random(0, \(tenants - 1)))
          return wrk.format("GET", "/notes/\(noteID)", { ["Host"] = host })
        end
        """
    }

    /// Runs wrk for `seconds` and reads its requests, duration and latency percentiles; any
    /// non-2xx response or socket error fails the run.
    static func wrkRun(_ wrk: String, script: String, port: Int, seconds: Int, plan: Plan) throws -> Sample {
        let output = try capture(wrk, [
            "-t\(plan.threads)", "-c\(plan.connections)", "-d\(seconds)s", "--latency", "-s", script,
            "http://127.0.0.1:\(port)/",
        ])
        if output.contains("Non-2xx") || output.contains("Socket errors") {
            throw BenchmarkError("wrk saw failed requests:\n\(output)")
        }
        // "  12345 requests in 10.00s, 4.56MB read" and "     50%  1.23ms"
        guard let summary = output.split(separator: "\n").first(where: { $0.contains(" requests in ") }) else {
            throw BenchmarkError("cannot read wrk's output:\n\(output)")
        }
        let words = summary.split(separator: " ")
        guard let requests = Double(words[0]), let duration = words.last(where: { $0.hasSuffix("s,") }).flatMap({ parseDuration($0.dropLast()) })
        else { throw BenchmarkError("cannot read wrk's summary: \(summary)") }
        func percentile(_ label: String) throws -> Double {
            guard let line = output.split(separator: "\n").first(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix(label + " ") }),
                  let value = line.split(separator: " ").last.flatMap({ parseDuration($0) })
            else { throw BenchmarkError("no \(label) latency in wrk's output:\n\(output)") }
            return value * 1_000
        }
        return Sample(requests: requests, seconds: duration, p50Millis: try percentile("50%"), p99Millis: try percentile("99%"))
    }

    /// wrk's durations, `850.00us`, `1.23ms`, `10.00s`, `1.02m`, in seconds.
    static func parseDuration(_ text: Substring) -> Double? {
        for (suffix, scale) in [("us", 1e-6), ("ms", 1e-3), ("s", 1.0), ("m", 60.0)] where text.hasSuffix(suffix) {
            return Double(text.dropLast(suffix.count)).map { $0 * scale }
        }
        return nil
    }
}

extension Framework {
    /// The demo's `serve`, in production mode where the framework has one.
    var serve: [String] {
        switch self {
        case .vapor: ["serve", "--env", "production"]
        case .hummingbird: ["serve"]
        }
    }
}
