import Tenanted

/// The console's HTML. Every value that comes from outside (tenant names, suspension reasons, error
/// messages, the search prefix) goes through ``HTML/escape(_:)``.
enum Pages {
    static let style = """
        *{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2329;background:#f6f7f9}\
        header{background:#1d2329;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:1rem;align-items:center}\
        header a{color:#fff;text-decoration:none;font-weight:600}header form{margin-left:auto}\
        main{max-width:72rem;margin:0 auto;padding:1rem}h1{font-size:1.35rem;margin:.2rem 0 1rem}\
        table{width:100%;border-collapse:collapse;background:#fff}th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid #e3e6ea;vertical-align:top}\
        th{font-size:.8rem;text-transform:uppercase;color:#5b6670}.num{text-align:right;font-variant-numeric:tabular-nums}\
        .cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(11rem,1fr));gap:.6rem;margin-bottom:1rem}\
        .card{background:#fff;border:1px solid #e3e6ea;border-radius:6px;padding:.6rem .8rem}.card b{display:block;font-size:1.4rem}\
        .tag{display:inline-block;padding:0 .4rem;border-radius:4px;font-size:.8rem;background:#e8ebef}.warn{background:#fde2c4}.bad{background:#f8d0d0}.ok{background:#d4f0dc}\
        form.inline{display:inline}input,button{font:inherit;padding:.35rem .6rem;border:1px solid #b9c1c9;border-radius:4px}\
        button{background:#1d2329;color:#fff;border-color:#1d2329;cursor:pointer}button.danger{background:#a11d1d;border-color:#a11d1d}\
        .actions{display:grid;gap:.8rem;max-width:32rem;margin-top:1rem}.actions form{background:#fff;border:1px solid #e3e6ea;border-radius:6px;padding:.7rem;display:flex;flex-wrap:wrap;gap:.5rem}\
        .notice{background:#d4f0dc;padding:.5rem .8rem;border-radius:4px}.problem{background:#f8d0d0;padding:.5rem .8rem;border-radius:4px}\
        nav.pager{display:flex;gap:1rem;margin:1rem 0}dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;background:#fff;padding:.8rem;border:1px solid #e3e6ea}\
        dd{margin:0}@media (max-width:40rem){.wide{display:none}td,th{padding:.35rem .3rem}}
        """

    static func document(title: String, mount: String, csrf: String?, content: String) -> String {
        let signedIn = csrf.map { csrf in
            """
            <a href="\(mount)">Overview</a><a href="\(mount)/tenants">Tenants</a>\
            <form method="post" action="\(mount)/logout"><input type="hidden" name="csrf" value="\(csrf)"><button type="submit">Sign out</button></form>
            """
        } ?? ""
        return """
            <!doctype html><html lang="en"><head><meta charset="utf-8">\
            <meta name="viewport" content="width=device-width,initial-scale=1">\
            <title>\(HTML.escape(title)) · Tenanted admin</title><style>\(style)</style></head>\
            <body><header><span>Tenanted admin</span>\(signedIn)</header><main><h1>\(HTML.escape(title))</h1>\(content)</main></body></html>
            """
    }

    static func login(error: String?, mount: String) -> String {
        (error.map { "<p class=\"problem\" role=\"alert\">\(HTML.escape($0))</p>" } ?? "")
            + """
            <form method="post" action="\(mount)/login" class="actions"><label for="token">Admin token</label>\
            <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>\
            <button type="submit" id="sign-in">Sign in</button></form>
            """
    }

    static func message(_ text: String, mount: String, back: String? = nil) -> String {
        "<p class=\"problem\" role=\"alert\">\(HTML.escape(text))</p><p><a href=\"\(HTML.escape(back ?? mount))\">Back</a></p>"
    }

    static func problem(_ text: String) -> String {
        "<p class=\"problem\" role=\"alert\">\(HTML.escape(text))</p>"
    }

    /// The notice shown after an action, from a fixed set (the query cannot inject text).
    static func notice(_ key: String?) -> String? {
        switch key {
        case "migrated": "Migrated: every pending migration is applied."
        case "suspended": "Suspended: the tenant's requests are refused until it is resumed."
        case "resumed": "Resumed: the tenant serves requests again."
        case "destroyed": "Destroyed."
        default: nil
        }
    }

    static func overview(_ overview: Overview, mount: String) -> String {
        let pools = overview.pools
        var cards: [(String, String)] = [
            ("Tenants", overview.tenantCount.map(String.init) ?? "?"),
            ("Open pools", "\(pools.open) / \(pools.capacity)"),
            ("Leased pools", "\(pools.leased)"),
            ("Overflow", "\(pools.overflow) (limit \(pools.hardLimit - pools.capacity))"),
            ("Opens since start", "\(pools.opensSinceStart)"),
            ("Evictions since start", "\(pools.evictionsSinceStart)"),
            ("Waiting for a slot", "\(pools.waiting)"),
            ("Store", overview.storeKind),
        ]
        if pools.overflowsSinceStart > 0 { cards.append(("Overflows since start", "\(pools.overflowsSinceStart)")) }
        var html = overview.problems.map(problem).joined()
        html += "<div class=\"cards\" id=\"overview\">"
        html += cards.map { "<div class=\"card\">\(HTML.escape($0.0))<b>\(HTML.escape($0.1))</b></div>" }.joined()
        html += "</div><p>Pools are those of the process that served this page; every process has its own.</p>"
        if !overview.servers.isEmpty {
            html += "<table><thead><tr><th>Server</th><th class=\"num\">Tenants</th></tr></thead><tbody>"
            html += overview.servers.map { "<tr><td>\(HTML.escape($0.name))</td><td class=\"num\">\($0.tenants)</td></tr>" }.joined()
            html += "</tbody></table>"
        }
        html += "<p><a href=\"\(mount)/tenants\">All tenants</a></p>"
        return html
    }

    static func search(prefix: String, mount: String) -> String {
        """
        <form method="get" action="\(mount)/tenants" class="inline" role="search">\
        <input name="prefix" id="prefix" value="\(HTML.escape(prefix))" placeholder="name starts with…" aria-label="Name starts with">\
        <button type="submit" id="search">Search</button></form>
        """
    }

    static func tenantTable(_ rows: [TenantRow], mount: String) -> String {
        guard !rows.isEmpty else { return "<p id=\"empty\">No tenants.</p>" }
        let showServer = rows.contains { $0.server != nil }
        var html = "<table id=\"tenants\"><thead><tr><th>Name</th>"
        if showServer { html += "<th class=\"wide\">Server</th>" }
        html += "<th class=\"num wide\">Size</th><th>Migrations</th><th>Status</th><th class=\"wide\">Pool</th></tr></thead><tbody>"
        for row in rows {
            html += "<tr><td><a href=\"\(mount)/tenants/\(row.tenant)\">\(HTML.escape(row.tenant.rawValue))</a></td>"
            if showServer { html += "<td class=\"wide\">\(HTML.escape(row.server ?? "?"))</td>" }
            html += "<td class=\"num wide\">\(size(row.size))</td><td>\(migrationSummary(row.migrations))</td>"
            html += "<td>\(status(row))</td><td class=\"wide\">\(pool(row.pool))</td></tr>"
        }
        return html + "</tbody></table>"
    }

    struct Paging {
        var previous: TenantID?
        var next: TenantID?
        var prefix: String
    }

    static func pager(_ paging: Paging, mount: String) -> String {
        let prefix = paging.prefix.isEmpty ? "" : "&prefix=\(HTML.queryValue(paging.prefix))"
        var links: [String] = []
        if let previous = paging.previous { links.append("<a id=\"previous\" href=\"\(mount)/tenants?before=\(previous)\(prefix)\">← Previous</a>") }
        if let next = paging.next { links.append("<a id=\"next\" href=\"\(mount)/tenants?after=\(next)\(prefix)\">Next →</a>") }
        return links.isEmpty ? "" : "<nav class=\"pager\">\(links.joined())</nav>"
    }

    static func tenant(_ row: TenantRow, notice: String?, csrf: String, mount: String) -> String {
        let base = "\(mount)/tenants/\(row.tenant)"
        var html = notice.map { "<p class=\"notice\" role=\"status\">\(HTML.escape($0))</p>" } ?? ""
        html += row.problems.map(problem).joined()
        html += "<dl id=\"tenant\"><dt>Name</dt><dd>\(HTML.escape(row.tenant.rawValue))</dd>"
        if let server = row.server { html += "<dt>Server</dt><dd>\(HTML.escape(server))</dd>" }
        html += "<dt>Size</dt><dd>\(size(row.size))</dd><dt>Status</dt><dd id=\"status\">\(status(row))</dd>"
        if let reason = row.suspension?.reason { html += "<dt>Reason</dt><dd id=\"reason\">\(HTML.escape(reason))</dd>" }
        html += "<dt>Pool</dt><dd>\(pool(row.pool))</dd>"
        if let migrations = row.migrations {
            html += "<dt>Applied</dt><dd>\(list(migrations.applied))</dd><dt>Pending</dt><dd>\(list(migrations.pending))</dd>"
        }
        html += "</dl><div class=\"actions\">"
        let token = "<input type=\"hidden\" name=\"csrf\" value=\"\(csrf)\">"
        html += "<form method=\"post\" action=\"\(base)/migrate\">\(token)<button type=\"submit\" id=\"migrate\">Migrate</button></form>"
        if row.suspension == nil {
            html += """
                <form method="post" action="\(base)/suspend">\(token)<input name="reason" id="suspend-reason" maxlength="500" \
                placeholder="Reason (for operators)" aria-label="Reason"><button type="submit" id="suspend">Suspend</button></form>
                """
        } else {
            html += "<form method=\"post\" action=\"\(base)/resume\">\(token)<button type=\"submit\" id=\"resume\">Resume</button></form>"
        }
        html += """
            <form method="post" action="\(base)/destroy">\(token)<input name="confirm" id="destroy-confirm" autocomplete="off" \
            placeholder="Type \(row.tenant) to destroy" aria-label="Type the tenant's name to destroy it" required>\
            <button type="submit" class="danger" id="destroy">Destroy</button></form></div>
            """
        return html
    }

    // MARK: Cells

    static func size(_ bytes: Int64?) -> String {
        guard let bytes else { return "—" }
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 { return "\(bytes) B" }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }

    static func migrationSummary(_ status: MigrationStatus?) -> String {
        guard let status else { return "—" }
        let pending = status.pending.isEmpty ? "" : " <span class=\"tag warn\">\(status.pending.count) pending</span>"
        return "\(status.applied.count) applied\(pending)"
    }

    static func status(_ row: TenantRow) -> String {
        row.suspension == nil ? "<span class=\"tag ok\">active</span>" : "<span class=\"tag bad\">suspended</span>"
    }

    static func pool(_ state: TenantPoolState) -> String {
        switch state {
        case .closed: return "closed"
        case .opening: return "opening"
        case .leased(let count): return "leased (\(count))"
        case .idle(let since):
            guard let since else { return "open, idle" }
            let seconds = Int((ContinuousClock.now - since).components.seconds)
            return "open, idle, last used \(seconds) s ago"
        }
    }

    static func list(_ names: [String]) -> String {
        names.isEmpty ? "none" : names.map(HTML.escape).joined(separator: ", ")
    }
}
