import Foundation

/// One tenant file in a backup: its name, and where its bytes are in the backup file.
///
/// Read from the files section (``TenantBackupHeader``) when the backup is opened, and checked then,
/// before anything is written: only `file` entries (a link, a folder or any other kind is refused),
/// names that are ``TenantFileKey``s (no path, no `/`, no `..`, nothing absolute), no name twice,
/// sizes within the section, and as many entries as the header says.
public struct TenantBackupFile: Sendable, Hashable {
    /// The file's name in the tenant's folder.
    public let key: TenantFileKey
    /// Where its bytes start in the backup file.
    public let offset: Int64
    /// Its length in bytes.
    public let size: Int64

    /// The longest entry line: `file `, up to 19 digits, a space, a key, a newline.
    static let maximumLineBytes = 5 + 19 + 1 + TenantFileKey.maximumLength + 1

    /// The checked entries of the files section of `length` bytes at `start` in `handle`'s file.
    static func entries(in handle: FileHandle, from start: Int64, length: Int64, count: Int, path: String) throws(TenantedError) -> [TenantBackupFile] {
        func bad(_ why: String) -> TenantedError {
            TenantedError(.badBackup, "the backup file \(why); nothing was restored", detail: path)
        }
        guard count >= 0 else { throw bad("has a damaged header") }
        let end = start + length
        var position = start
        var files: [TenantBackupFile] = []
        var seen: Set<TenantFileKey> = []
        while position < end {
            let line: Data
            do {
                try handle.seek(toOffset: UInt64(position))
                line = try handle.read(upToCount: Int(min(Int64(maximumLineBytes), end - position))) ?? Data()
            } catch {
                throw bad("cannot be read")
            }
            guard let newline = line.firstIndex(of: UInt8(ascii: "\n")) else {
                throw bad("has a damaged files section (an entry without its line)")
            }
            let fields = line[line.startIndex..<newline].split(separator: UInt8(ascii: " "), maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3, let kind = String(bytes: fields[0], encoding: .ascii) else {
                throw bad("has a damaged files section (an entry line that is not 'KIND SIZE NAME')")
            }
            guard kind == "file" else {
                throw bad("holds an entry that is not a plain file (links, folders and other kinds are never restored)")
            }
            guard fields[1].count <= 18, !fields[1].isEmpty, fields[1].allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
                  let size = Int64(String(decoding: fields[1], as: UTF8.self))
            else {
                throw bad("has a damaged files section (an entry with a bad size)")
            }
            let key: TenantFileKey
            do {
                key = try TenantFileKey(String(decoding: fields[2], as: UTF8.self))
            } catch {
                throw bad("holds a file whose name is not a plain file name (a path, an absolute name or '..' are never restored)")
            }
            guard seen.insert(key).inserted else { throw bad("holds the same file name twice") }
            let data = position + Int64(newline - line.startIndex + 1)
            guard size <= end - data else {
                throw bad("holds a file larger than its files section (oversized or truncated)")
            }
            files.append(TenantBackupFile(key: key, offset: data, size: size))
            position = data + size
        }
        guard files.count == count else { throw bad("has a damaged files section (\(files.count) files, its header says \(count))") }
        return files
    }
}

/// The files section of a backup being written: where it goes, and what writes it there (returning
/// how many files it holds).
struct TenantBackupFilesSection: Sendable, Hashable {
    let path: String
    let write: @Sendable () throws -> Int

    static func == (lhs: Self, rhs: Self) -> Bool { lhs.path == rhs.path }
    func hash(into hasher: inout Hasher) { hasher.combine(path) }
}
