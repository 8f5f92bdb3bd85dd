import Foundation

/// Checks that a Markdown document's Swift code is compiled by a test: every line of every ```swift
/// block must appear, in order, in the test file that mirrors it.
///
/// A mirroring line that must differ from the document (a temporary directory instead of a fixed
/// path, a `fileprivate`) carries the document's form in a trailing `// <marker>: `...`` comment;
/// `// <marker>:` comments without backticks and `// MARK:` lines are ignored.
package enum DocumentMirror {
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
