/// One way of talking to SQLite. Every method does the whole unit of work that one
/// benchmark iteration times.
protocol Layer: Sendable {
    var name: String { get }

    /// Open an existing file, apply `BenchmarkSchema.pragmas`, read `_migrations`, select one task, close.
    func coldOpen(path: String, taskID: Int) async throws

    /// Create a new file, apply `BenchmarkSchema.pragmas`, run the migration in one transaction, close.
    func createAndMigrate(path: String) async throws

    /// Open a connection (with `BenchmarkSchema.pragmas`) that stays open for the hot-path workloads.
    func openSession(path: String) async throws -> any Session
}

protocol Session {
    func selectTask(id: Int) async throws -> TaskRow?
    func insertTask(number: Int) async throws
    func close() async throws
}
