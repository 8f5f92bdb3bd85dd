// README tutorial block 4 (creating a tenant in code), with the imports the README shows.
import Fluent
import TenantedVapor
import Vapor

/// `POST /signup/:name` on the bare domain: the tutorial's "a sign-up handler".
func signUp(_ app: Application) {
    app.post("signup", ":name") { req async throws -> HTTPStatus in
        let name = try req.parameters.require("name")
        try await app.tenanted.requireTenancy().createTenant(TenantID(name))   // README: `try await app.tenanted.requireTenancy().createTenant(TenantID("acme"))   // database + migrations, all or nothing`
        return .created
    }
}
