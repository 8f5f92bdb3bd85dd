import Crypto
import Foundation

/// Signed, stateless admin sessions: every process with the same token accepts the same cookie, and
/// nothing is stored on the server.
///
/// A session is `v1.<expiry seconds>.<nonce hex>.<HMAC-SHA256 hex>`, keyed by a key derived from the
/// token; its CSRF token is another HMAC of the session under the same key. Comparisons run in
/// constant time.
struct AdminSessions: Sendable {
    static let cookieName = "tenanted_admin"

    private let key: SymmetricKey
    private let tokenDigest: SHA256.Digest
    let lifetime: Duration

    init(token: String, lifetime: Duration) {
        key = SymmetricKey(data: SHA256.hash(data: Data(("tenanted-admin-session-v1:" + token).utf8)))
        tokenDigest = SHA256.hash(data: Data(token.utf8))
        self.lifetime = lifetime
    }

    /// Whether `candidate` is the token, in time independent of where they differ (both are hashed
    /// first, so the length does not leak either).
    func isToken(_ candidate: String) -> Bool {
        let digest = SHA256.hash(data: Data(candidate.utf8))
        return Self.constantTimeEqual(Array(digest), Array(tokenDigest))
    }

    /// A new session valid for ``lifetime`` from `now` (seconds since 1970).
    func issue(now: Int64) -> String {
        let expiry = now + lifetime.components.seconds
        var nonce = [UInt8](repeating: 0, count: 16)
        var generator = SystemRandomNumberGenerator()
        for index in nonce.indices { nonce[index] = UInt8.random(in: .min ... .max, using: &generator) }
        let body = "v1.\(expiry).\(Self.hex(nonce))"
        return body + "." + signature(of: body)
    }

    /// Whether `session` was issued with this token and has not expired at `now`.
    func isValid(_ session: String, now: Int64) -> Bool {
        let parts = session.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "v1", let expiry = Int64(parts[1]), expiry > now,
            parts[2].utf8.count == 32, parts[3].utf8.count == 64
        else { return false }
        let body = parts[0...2].joined(separator: ".")
        return Self.constantTimeEqual(Array(signature(of: body).utf8), Array(parts[3].utf8))
    }

    /// The CSRF token that forms of `session` carry.
    func csrfToken(for session: String) -> String {
        signature(of: "csrf:" + session)
    }

    /// Whether `candidate` is the CSRF token of `session`.
    func isCSRFToken(_ candidate: String, for session: String) -> Bool {
        Self.constantTimeEqual(Array(csrfToken(for: session).utf8), Array(candidate.utf8))
    }

    private func signature(of body: String) -> String {
        Self.hex(Array(HMAC<SHA256>.authenticationCode(for: Data(body.utf8), using: key)))
    }

    static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
