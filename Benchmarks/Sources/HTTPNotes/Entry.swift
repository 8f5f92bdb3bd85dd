import BenchmarkSupport
import Foundation

/// `http-notes`, workload 6:
///
/// - `http-notes run --demo PATH [--quick] [--output PATH] [--latest PATH]`: requests per second of
///   the demo's `GET /notes/:id` over many tenants against the same handler untenanted, each under
///   wrk on loopback for a bounded time (see README.md).
/// - `http-notes serve --database PATH --port N`: the untenanted server `run` starts.
@main
enum Entry {
    static func main() async throws {
        let arguments = CommandLine.arguments
        switch arguments.dropFirst().first {
        case "serve":
            guard let database = value("--database", in: arguments), let port = value("--port", in: arguments).flatMap(Int.init) else {
                throw BenchmarkError("usage: http-notes serve --database PATH --port N")
            }
            try await UntenantedServer.serve(database: database, port: port)
        case "run":
            guard let demo = value("--demo", in: arguments) else {
                throw BenchmarkError("usage: http-notes run --demo PATH-TO-tenanted-demo [--quick] [--latest PATH]")
            }
            let options = Options(name: "http-notes")
            try await Load.run(demo: demo, options: options)
        default:
            throw BenchmarkError("usage: http-notes run --demo PATH | http-notes serve --database PATH --port N")
        }
    }

    static func value(_ option: String, in arguments: [String]) -> String? {
        arguments.firstIndex(of: option).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
    }
}
