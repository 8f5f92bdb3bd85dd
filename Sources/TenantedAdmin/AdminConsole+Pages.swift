import Logging
import Tenanted

extension AdminConsole {
    func overview(session: String) async -> AdminResponse {
        let overview = await readOverview()
        return page(status: 200, title: "Overview", session: session, body: Pages.overview(overview, mount: configuration.mountPath))
    }

    func tenantList(query: [String: String], session: String) async -> AdminResponse {
        let prefix = query["prefix"] ?? ""
        let listQuery: TenantListQuery
        do {
            let after = try query["after"].map { try TenantID($0) }
            let before = try query["before"].map { try TenantID($0) }
            // One more than a page, to know whether another page follows.
            listQuery = try TenantListQuery(prefix: prefix, after: after, before: before, limit: configuration.pageSize + 1)
        } catch {
            let body = Pages.search(prefix: prefix, mount: configuration.mountPath) + Pages.problem(Self.describe(error))
            return page(status: 400, title: "Tenants", session: session, body: body)
        }
        let names: [TenantID]
        do {
            names = try await tenancy.tenants(matching: listQuery)
        } catch {
            return page(status: 500, title: "Tenants", session: session, body: Pages.problem(Self.describe(error)))
        }
        let more = names.count > configuration.pageSize
        let shown = listQuery.before == nil ? Array(names.prefix(configuration.pageSize)) : Array(names.suffix(configuration.pageSize))
        let rows = await readRows(shown)
        let paging = Pages.Paging(
            previous: (listQuery.after != nil || (listQuery.before != nil && more)) ? shown.first : nil,
            next: (listQuery.before != nil || (listQuery.after == nil && more) || (listQuery.after != nil && more)) ? shown.last : nil,
            prefix: prefix
        )
        let body = Pages.search(prefix: prefix, mount: configuration.mountPath)
            + Pages.tenantTable(rows, mount: configuration.mountPath)
            + Pages.pager(paging, mount: configuration.mountPath)
        return page(status: 200, title: "Tenants", session: session, body: body)
    }

    func tenantPage(_ name: String, notice: String?, session: String) async -> AdminResponse {
        guard let tenant = try? TenantID(name), let row = await readRow(tenant) else {
            return page(status: 404, title: "No such tenant", session: session, body: Pages.message("There is no such tenant.", mount: configuration.mountPath))
        }
        let csrf = sessions.csrfToken(for: session)
        return page(status: 200, title: tenant.rawValue, session: session, body: Pages.tenant(row, notice: Pages.notice(notice), csrf: csrf, mount: configuration.mountPath))
    }

    func act(_ action: String, on name: String, form: [String: String], session: String) async -> AdminResponse {
        guard let tenant = try? TenantID(name), ["migrate", "suspend", "resume", "destroy"].contains(action) else { return notFound() }
        let mount = configuration.mountPath
        do {
            switch action {
            case "migrate":
                let applied = try await tenancy.migrate(tenant)
                logger.info("admin: migrated tenant", metadata: ["tenant": "\(tenant)", "migrations": "\(applied.count)"])
                return redirect(to: "\(mount)/tenants/\(tenant)?notice=migrated")
            case "suspend":
                let reason = (form["reason"] ?? "").trimmingWhitespace()
                try await tenancy.suspend(tenant, reason: reason.isEmpty ? nil : reason)
                logger.info("admin: suspended tenant", metadata: ["tenant": "\(tenant)"])
                return redirect(to: "\(mount)/tenants/\(tenant)?notice=suspended")
            case "resume":
                try await tenancy.resume(tenant)
                logger.info("admin: resumed tenant", metadata: ["tenant": "\(tenant)"])
                return redirect(to: "\(mount)/tenants/\(tenant)?notice=resumed")
            default:  // destroy
                guard form["confirm"] == tenant.rawValue else {
                    return page(status: 400, title: "Not destroyed", session: session, body: Pages.message("Nothing was destroyed: type the tenant's name, \(tenant), exactly to destroy it.", mount: mount, back: "\(mount)/tenants/\(tenant)"))
                }
                try await tenancy.destroyTenant(tenant)
                logger.info("admin: destroyed tenant", metadata: ["tenant": "\(tenant)"])
                return redirect(to: "\(mount)/tenants?notice=destroyed")
            }
        } catch {
            let status = (error as? TenantedError)?.httpStatusCode ?? 500
            logger.warning("admin: \(action) failed", metadata: ["tenant": "\(tenant)", "error": "\(Self.describe(error))"])
            return page(status: status == 503 ? 409 : status, title: "Failed", session: session, body: Pages.message("\(action.capitalizedFirst) failed: \(Self.describe(error))", mount: mount, back: "\(mount)/tenants/\(tenant)"))
        }
    }

    private func redirect(to location: String) -> AdminResponse {
        AdminResponse(status: 303, headers: [("Location", location)])
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }

    fileprivate var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}
