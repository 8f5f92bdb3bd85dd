/// Thrown by a failed `tenants` command (``TenantCommands``) after its one-line report is on
/// standard error; a front end exits with ``exitStatus``.
public struct TenantsCommandFailed: Error, CustomStringConvertible {
    /// What failed, in one line.
    public let description: String
    /// Whether the line was already printed (by the command, which knows more).
    package let reported: Bool

    /// The process exit status of a failed command: 1.
    public var exitStatus: Int32 { 1 }

    package init(description: String, reported: Bool = true) {
        self.description = description
        self.reported = reported
    }

    /// The failure for `error`: itself when it is one, else a one-line description not yet printed.
    /// A `TenantedError` says what it says (never a path); other errors (a front end's argument
    /// errors) are joined into one line.
    package init(reporting error: any Error) {
        switch error {
        case let failure as TenantsCommandFailed: self = failure
        case let error as TenantedError: self.init(description: error.description, reported: false)
        default:
            let line = String(describing: error).split(whereSeparator: \.isNewline).joined(separator: " ")
            self.init(description: line, reported: false)
        }
    }
}
