import BenchmarkSupport
import Foundation

/// `http-notes`, workload 6:
///
/// - `http-notes run --demo PATH [--framework vapor|hummingbird] [--ports N] [--quick] [--output PATH] [--latest PATH]`:
///   requests per second of the demo's `GET /notes/:id` over many tenants against the same handler
///   untenanted on the same framework, each under wrk on loopback for a bounded time (see README.md).
///   The servers listen on ports N, N + 1 and N + 2 (default 18081), so runs beside each other
///   can be given ranges of their own.
/// - `http-notes serve --database PATH --port N [--framework vapor|hummingbird]`: the untenanted
///   server `run` starts.
@main
enum Entry {
    static func main() async throws {
        let arguments = CommandLine.arguments
        switch arguments.dropFirst().first {
        case "serve":
            guard let database = value("--database", in: arguments), let port = value("--port", in: arguments).flatMap(Int.init) else {
                throw BenchmarkError("usage: http-notes serve --database PATH --port N")
            }
            switch try framework(arguments) {
            case .vapor: try await UntenantedServer.serve(database: database, port: port)
            case .hummingbird: try await UntenantedHummingbirdServer.serve(database: database, port: port)
            }
        case "run":
            guard let demo = value("--demo", in: arguments) else {
                throw BenchmarkError("usage: http-notes run --demo PATH-TO-tenanted-demo [--quick] [--latest PATH]")
            }
            let framework = try framework(arguments)
            let options = Options(name: framework == .vapor ? "http-notes" : "http-notes-hummingbird")
            let ports = value("--ports", in: arguments) ?? "18081"
            guard let base = Int(ports), (1_024...65_533).contains(base) else {
                throw BenchmarkError("--ports is the first of three free ports (1024-65533), not \(ports)")
            }
            try await Load.run(demo: demo, framework: framework, ports: base, options: options)
        default:
            throw BenchmarkError("usage: http-notes run --demo PATH [--framework F] | http-notes serve --database PATH --port N [--framework F]")
        }
    }

    static func framework(_ arguments: [String]) throws -> Framework {
        guard let name = value("--framework", in: arguments) else { return .vapor }
        guard let framework = Framework(rawValue: name) else { throw BenchmarkError("--framework is vapor or hummingbird, not \(name)") }
        return framework
    }

    static func value(_ option: String, in arguments: [String]) -> String? {
        arguments.firstIndex(of: option).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
    }
}

/// The web framework of the demo under test and of its untenanted baseline.
enum Framework: String, Sendable {
    /// `tenanted-demo` against Vapor + the stock FluentSQLiteDriver.
    case vapor
    /// `tenanted-hummingbird-demo` against Hummingbird + sqlite-nio.
    case hummingbird
}
