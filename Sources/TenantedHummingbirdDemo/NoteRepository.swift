import TenantedDemoSupport
import TenantedHummingbird

/// The notes of the request's tenant, in plain SQL on the tenant's pool, reached through the request
/// context's lease (no lookup). One implementation per store: ``SQLiteNotes`` (`SQLitePool`),
/// ``PostgresNotes`` (`PostgresTenantPool`) and ``MySQLNotes`` (`MySQLTenantPool`).
protocol NoteRepository: Sendable {
    /// Every note, oldest first.
    func all(_ context: some TenantRequestContext) async throws -> [Note]
    /// How many notes there are.
    func count(_ context: some TenantRequestContext) async throws -> Int
    /// The note `id`, or `nil`.
    func find(_ id: String, _ context: some TenantRequestContext) async throws -> Note?
    /// Stores a new note, created at `createdAt` (ISO 8601 with milliseconds).
    func insert(_ note: Note, createdAt: String, _ context: some TenantRequestContext) async throws
    /// Stores `note`'s title and body.
    func update(_ note: Note, _ context: some TenantRequestContext) async throws
    /// Deletes the note; `false` when there was none.
    func delete(_ id: String, _ context: some TenantRequestContext) async throws -> Bool
}

/// The repository of the store `kind`.
func noteRepository(for kind: DemoEnvironment.StoreKind) -> any NoteRepository {
    switch kind {
    case .sqlite: SQLiteNotes()
    case .postgresDatabase, .postgresSchema, .postgresSchemaShared: PostgresNotes()
    case .mysql: MySQLNotes()
    }
}

/// The columns every repository reads, in the order of `Note`'s stored fields.
let noteColumns = "id, title, body, created_at"
