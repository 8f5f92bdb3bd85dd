/// The hostile-input tables of the reliability suite (issue 7, test 3): tenant names and `Host`
/// headers that must never reach a path, a database or another tenant.
package enum HostileInput {
    /// Tenant file names that `TenantFileKey` must refuse with `badFileName`: the path, shell, control and
    /// Unicode tables of tenant names (minus the two dotted names a file may have), plus hidden names,
    /// `..` inside a name and a name one byte too long.
    package static let fileKeys: [String] = traversal + controls + unicode
        + separatorsAndShell.filter { $0 != "a.b" && $0 != "acme.localhost" }
        + [".hidden", ".acme", ".", "..a", "a..b", "acme..", "a/", "/", "//", String(repeating: "a", count: 201)]

    /// Tenant names that `TenantID` must refuse with `badTenantName`, grouped by what they try.
    package static let tenantNames: [String] = traversal + separatorsAndShell + controls + unicode + shapes + lengths

    /// `..` and path separators in every encoding: plain, percent (once and twice), overlong UTF-8,
    /// backslashes, and Unicode dots and slashes.
    static let traversal = [
        "", ".", "..", "...", "../etc", "../../passwd", "a/../b", "./a", "a/./b", "/abs", "/etc/passwd", "a/b",
        "a\\b", "..\\..\\windows", "\\\\server\\share", "C:\\x", "c:", "%2e%2e", "%2E%2E", "%2e%2e%2f", "..%2f",
        "..%5c", "%252e%252e", "%25", "acme%00", "%c0%ae%c0%ae", "%e0%80%ae", "\u{FF0E}\u{FF0E}", "\u{2025}",
        "\u{2024}\u{2024}", "a\u{2215}b", "a\u{2044}b", "a\u{FF0F}b", "a\u{29F5}b", "a\u{FE68}b", "a\u{FF3C}b",
        "file:///etc", "~", "~root", "~acme", "..;", ".;acme", "a:b", "a*b",
    ]

    /// Characters that mean something to a shell, a URL, SQL, or a glob.
    static let separatorsAndShell = [
        "$(id)", "`id`", "a;rm", "a|b", "a&b", "a>b", "a<b", "a'b", "a\"b", "acme'--", "acme\"; DROP TABLE notes; --",
        "acme?x", "acme#x", "acme@evil", "user:pass@acme", "acme:8080", "acme:", ":80", "acme,globex", "a%", "a*",
        "*", "?", "[a]", "{a}", "a=b", "a+b", "a!b", "a^b", "a.b", "acme.localhost",
    ]

    /// NUL, CR/LF, tabs, DEL, escape sequences, spaces.
    static let controls = [
        "\0", "acme\0", "a\0b", "acme\r\n", "a\r\nb", "a\nb", "a\rb", "a\tb", "a b", " acme", "acme ", "a\u{7F}",
        "a\u{1B}[31m", "a\u{8}b", "\u{85}acme",
    ]

    /// Look-alikes, invisible characters and normalisation traps: none may become an ASCII name.
    static let unicode = [
        "\u{0430}cme", "\u{FF41}\u{FF43}\u{FF4D}\u{FF45}", "acme\u{200B}", "\u{FEFF}acme", "ac\u{0301}me", "\u{E9}",
        "e\u{0301}", "\u{212A}ilo", "\u{17F}", "\u{DF}", "\u{131}", "\u{130}", "\u{FB01}", "acme\u{A0}", "\u{202E}emca",
        "acm\u{0435}", "\u{1D41A}cme", "ac\u{2010}me", "\u{2212}acme", "\u{FF10}",
    ]

    /// Reserved shapes: leading dots, dashes and underscores, uppercase, IP literals, trailing dots.
    static let shapes = [
        ".acme", "-acme", "_acme", "--", "-", "_", "-1", ".hidden", "acme.", "acme..", "ACME", "Acme", "aCME",
        "127.0.0.1", "::1", "[::1]", "0x7f.1", "1.2.3.4.5",
    ]

    /// Too long: one past the limit, far past it, and long once normalised.
    static let lengths = [
        String(repeating: "a", count: 64), String(repeating: "a", count: 255), String(repeating: "a", count: 4096),
        String(repeating: "a", count: 62) + "\u{0301}\u{0301}",
    ]

    /// `Host` headers that must resolve to no tenant, or an invalid or unknown one: a 404 at the
    /// tenant middleware (or a 400 / a closed connection when the HTTP parser refuses the request
    /// first). The server under test has the tenants `acme`, `globex` and `kilo`, so look-alikes of
    /// those would be real leaks.
    package static let hosts: [[UInt8]] = textHosts.map { Array($0.utf8) } + rawHosts

    static let textHosts: [String] = [
        "localhost", "initech.localhost", "ACME.localhost.evil.com", "acme.localhost.evil.com", "www.localhost",
        "127.0.0.1", "[::1]:8080", "[::1]", "127.0.0.1:8080", "0x7f.0.0.1", "2130706433", "[::ffff:127.0.0.1]",
        "..", "..localhost", "%2e%2e.localhost", "a..b.localhost", "acme%00.localhost", "-acme.localhost",
        "_acme.localhost", ".acme.localhost", "x.acme.localhost", "acme..localhost", "acme.localhost..",
        "acme.localhost:", "acme.localhost:abc", "acme.localhost:80:80", "acme.localhost:-1",
        "acme.localhost/../globex", "acme.localhost\\", "user@acme.localhost", "globex.localhost@acme.localhost",
        "%61cme.localhost", "acme%2elocalhost", "acme.localhost%00",
        "\u{212A}ilo.localhost", "\u{FF41}\u{FF43}\u{FF4D}\u{FF45}.localhost", "acme\u{200B}.localhost",
        "\u{0430}cme.localhost", "ac\u{0301}me.localhost", "glob\u{0435}x.localhost", "acme\u{FF0E}localhost",
        "con.localhost", "nul.localhost",
        String(repeating: "a", count: 64) + ".localhost", String(repeating: "a.", count: 150) + "localhost",
        String(repeating: "a", count: 4000) + ".localhost", "",
    ]

    /// Bytes no `String` literal spells: NUL, bare CR and LF, CR/LF header injection, an overlong
    /// UTF-8 dot, invalid UTF-8.
    static let rawHosts: [[UInt8]] = [
        Array("acme".utf8) + [0] + Array(".localhost".utf8),
        [0],
        Array("../..".utf8) + [0],
        Array("acme".utf8) + [0x0D] + Array(".localhost".utf8),
        Array("acme".utf8) + [0x0A] + Array(".localhost".utf8),
        Array("acme".utf8) + [0x0D, 0x0A] + Array(".localhost".utf8),
        Array("acme".utf8) + [0x09] + Array(".localhost".utf8),
        Array("acme".utf8) + [0xC0, 0xAE] + Array("localhost".utf8),
        [0xC0, 0xAE, 0xC0, 0xAE] + Array(".localhost".utf8),
        Array("acme".utf8) + [0xFF, 0xFE] + Array(".localhost".utf8),
        Array("acme".utf8) + [0x7F] + Array(".localhost".utf8),
    ]
}
