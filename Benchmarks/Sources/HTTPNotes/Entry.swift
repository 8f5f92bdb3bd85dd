import BenchmarkSupport
import Foundation

/// `http-notes`, workload 6:
///
/// - `http-notes run --demo PATH [--framework vapor|hummingbird] [--quick] [--output PATH] [--latest PATH]`:
///   requests per second of the demo's `GET /notes/:id` over many tenants against the same handler
///   untenanted on the same framework, each under wrk on loopback for a bounded time (see README.md).
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
            try await Load.run(demo: demo, framework: framework, options: options)
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
