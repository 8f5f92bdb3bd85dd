/// Runs `work` on each element, at most `width` at a time; the first error cancels the rest.
package func forEachConcurrently<Element: Sendable>(
    _ elements: [Element], width: Int, _ work: @escaping @Sendable (Element) async throws -> Void
) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        var iterator = elements.makeIterator()
        for _ in 0..<width {
            guard let element = iterator.next() else { break }
            group.addTask { try await work(element) }
        }
        while try await group.next() != nil {
            guard let element = iterator.next() else { continue }
            group.addTask { try await work(element) }
        }
    }
}
