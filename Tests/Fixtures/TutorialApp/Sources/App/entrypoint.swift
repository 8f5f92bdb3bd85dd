// Vapor's template entry point, unchanged: errors thrown by a command reach `throw error`, so a
// command that throws crashes here ("Fatal error: Error raised at top level"). The `tenants`
// commands must not (issue 15).
import Logging
import Vapor

@main
enum Entrypoint {
    static func main() async throws {
        var env = try Environment.detect()
        try LoggingSystem.bootstrap(from: &env)

        let app = try await Application.make(env)

        do {
            try await configure(app)
            try await app.execute()
        } catch {
            app.logger.report(error: error)
            try? await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
    }
}
