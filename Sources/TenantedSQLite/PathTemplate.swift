import Tenanted

/// Where a tenant's database file lives, relative to the store's root.
///
/// Tokens: `%{tenant}` (the tenant's name, required) and `%{bucket}` (optional; two directory levels
/// of two hex digits each, e.g. `3f/a2`, from the first two bytes of the 32-bit FNV-1a hash of the
/// name, so 100,000 tenants do not share one directory). `%{bucket}` must be a whole path component.
///
/// The template is relative (no leading `/`), has no empty, `.` or `..` components and no other
/// `%` sequences. Listing matches it exactly: every component is an anchored pattern with its
/// literal parts escaped, so stray files never look like tenants.
struct PathTemplate: Sendable, Equatable {
    enum Piece: Sendable, Equatable {
        case literal(String)
        case tenant
        /// One of the two bucket levels (0 or 1).
        case bucket(Int)
    }

    /// The template's components, `%{bucket}` already split into its two levels.
    let components: [[Piece]]
    /// The first component that names the tenant: directories from there down belong to one tenant.
    let firstTenantComponent: Int

    init(_ template: String) throws(TenantedError) {
        func invalid(_ reason: String) -> TenantedError {
            TenantedError(.invalidConfiguration, "invalid SQLite path template: \(reason)", detail: template)
        }
        if template.isEmpty { throw invalid("it is empty") }
        if template.hasPrefix("/") { throw invalid("it must be relative to the store's root (no leading '/')") }
        if template.unicodeScalars.contains("\0") { throw invalid("it contains a NUL character") }
        var components: [[Piece]] = []
        for component in template.split(separator: "/", omittingEmptySubsequences: false) {
            if component.isEmpty { throw invalid("it has an empty path component ('//' or a trailing '/')") }
            if component == "." || component == ".." { throw invalid("it has a '\(component)' component") }
            if component == "%{bucket}" {
                components.append([.bucket(0)])
                components.append([.bucket(1)])
                continue
            }
            var pieces: [Piece] = []
            var literal = ""
            var rest = Substring(component)
            while let percent = rest.firstIndex(of: "%") {
                literal += rest[..<percent]
                let token = rest[percent...]
                if token.hasPrefix("%{tenant}") {
                    if !literal.isEmpty { pieces.append(.literal(literal)) }
                    literal = ""
                    pieces.append(.tenant)
                    rest = token.dropFirst("%{tenant}".count)
                } else if token.hasPrefix("%{bucket}") {
                    throw invalid("%{bucket} must be a whole path component, like 'tenants/%{bucket}/%{tenant}.sqlite3'")
                } else {
                    throw invalid("unknown token at '\(token.prefix(12))'; the tokens are %{tenant} and %{bucket}")
                }
            }
            literal += rest
            if !literal.isEmpty { pieces.append(.literal(literal)) }
            components.append(pieces)
        }
        guard let first = components.firstIndex(where: { $0.contains(.tenant) }) else {
            throw invalid("it does not contain %{tenant}")
        }
        if components.last?.allSatisfy({ if case .bucket = $0 { return true } else { return false } }) == true {
            throw invalid("it must end in a file name, not %{bucket}")
        }
        self.components = components
        self.firstTenantComponent = first
    }

    /// The relative path components of `tenant`'s database file.
    func components(for tenant: TenantID) -> [String] {
        let bucket = Self.bucket(of: tenant)
        return components.map { pieces in
            pieces.map { piece in
                switch piece {
                case .literal(let text): text
                case .tenant: tenant.rawValue
                case .bucket(let level): bucket[level]
                }
            }.joined()
        }
    }

    /// The two bucket directory names of `tenant`: the first two bytes of its FNV-1a hash, in hex.
    ///
    /// Stable across processes, versions and platforms (unlike `Hasher`), because files depend on it.
    static func bucket(of tenant: TenantID) -> [String] {
        let hash = tenant.stableHash32
        return [UInt8(truncatingIfNeeded: hash >> 24), UInt8(truncatingIfNeeded: hash >> 16)].map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }
    }

    /// Whether component `index` is the tenant's name and nothing else (`%{tenant}`): its directory
    /// entries are then matched by the name rules alone, without a regular expression.
    func isTenantOnly(_ index: Int) -> Bool {
        components[index] == [.tenant]
    }

    /// Whether component `index` is one bucket level (as every `%{bucket}` is): its directory
    /// entries are then matched by ``isBucketName(_:)`` alone, without a regular expression.
    func isBucketOnly(_ index: Int) -> Bool {
        guard components[index].count == 1, case .bucket = components[index][0] else { return false }
        return true
    }

    /// Whether `name` can be a bucket directory: two lowercase hex digits, as ``bucket(of:)`` spells them.
    static func isBucketName(_ name: String) -> Bool {
        let bytes = name.utf8
        return bytes.count == 2 && bytes.allSatisfy { byte in
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
        }
    }

    /// Whether component `index` has no token (so it is the same for every tenant).
    func isLiteral(_ index: Int) -> Bool {
        components[index].allSatisfy { if case .literal = $0 { return true } else { return false } }
    }

    /// An anchored pattern for component `index`; it captures every `%{tenant}` in order.
    func pattern(_ index: Int) throws -> Regex<AnyRegexOutput> {
        var pattern = "^"
        for piece in components[index] {
            switch piece {
            case .literal(let text):
                for character in text.unicodeScalars {
                    if character.isASCII, !(character.properties.isAlphabetic || ("0"..."9").contains(character)) {
                        pattern += "\\"
                    }
                    pattern.unicodeScalars.append(character)
                }
            case .tenant: pattern += "([a-z0-9][a-z0-9_-]{0,62})"
            case .bucket: pattern += "[0-9a-f]{2}"
            }
        }
        return try Regex(pattern + "$")
    }
}
