import Foundation

/// Checks that a Markdown document's Swift code is compiled by a test: every line of every ```swift
/// block must appear, in order, in the test file that mirrors it.
///
/// A mirroring line that must differ from the document (a temporary directory instead of a fixed
/// path, a `fileprivate`) carries the document's form in a trailing `// <marker>: `...`` comment;
/// `// <marker>:` comments without backticks and `// MARK:` lines are ignored.
package enum DocumentMirror {
    /// The part of `markdown` from the line `heading` to the next heading of the same level (or the end).
    package static func section(_ heading: String, of markdown: String) -> String {
        split(markdown, at: heading).section
    }

    /// `markdown` without the section that starts at the line `heading`.
    package static func removingSection(_ heading: String, from markdown: String) -> String {
        let parts = split(markdown, at: heading)
        return parts.before + parts.after
    }

    private static func split(_ markdown: String, at heading: String) -> (before: String, section: String, after: String) {
        let lines = markdown.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(where: { $0 == heading }) else { return (markdown, "", "") }
        let level = heading.prefix { $0 == "#" } + " "
        let end = lines[(start + 1)...].firstIndex { $0.hasPrefix(level) } ?? lines.endIndex
        let join = { (slice: ArraySlice<Substring>) in slice.joined(separator: "\n") + "\n" }
        return (join(lines[..<start]), join(lines[start..<end]), join(lines[end...]))
    }

    /// The trimmed, non-empty lines of each ```swift block.
    package static func swiftBlocks(in markdown: String) -> [[String]] {
        var blocks: [[String]] = []
        var current: [String]?
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if current == nil, trimmed == "```swift" {
                current = []
            } else if let block = current, trimmed == "```" {
                blocks.append(block)
                current = nil
            } else if !trimmed.isEmpty {
                current?.append(trimmed)
            }
        }
        return blocks
    }

    /// The document lines missing from `mirror` (in order), as "block N: line".
    package static func missingLines(of markdown: String, in mirror: String, marker: String) -> [String] {
        let mirrored = mirror.split(separator: "\n", omittingEmptySubsequences: false).compactMap { documentForm($0, marker: marker) }
        var missing: [String] = []
        for (number, block) in swiftBlocks(in: markdown).enumerated() {
            var remaining = mirrored[...]
            for line in block {
                guard let found = remaining.firstIndex(of: line) else {
                    missing.append("block \(number + 1): \(line)")
                    break
                }
                remaining = remaining[(found + 1)...]
            }
        }
        return missing
    }

    /// How a line of the mirror reads in the document; `nil` for marker comments and blank lines.
    static func documentForm(_ line: Substring, marker: String) -> String? {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if let range = trimmed.range(of: "// \(marker): `") {
            let rest = trimmed[range.upperBound...]
            guard let end = rest.lastIndex(of: "`") else { return nil }
            return String(rest[..<end])
        }
        if trimmed.hasPrefix("// \(marker):") || trimmed.hasPrefix("// MARK:") || trimmed.isEmpty { return nil }
        return trimmed
    }
}
