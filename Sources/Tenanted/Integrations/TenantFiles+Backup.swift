#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Tenant files in backups (TenantBackupFile.swift has the format). Blocking: call from a thread pool.
//
// - A backup lists the tenant's folder and writes every plain file with a valid name (links and
//   anything else are left out, never followed), each read through a descriptor opened with
//   O_NOFOLLOW: a file is replaced by rename, never rewritten in place, so each is read whole.
// - A restore writes the backup's files into a new private folder beside the tenant's, then swaps
//   it in for the tenant's folder (the old one moved aside, removed once the restore has committed,
//   moved back if it fails).
extension TenantFiles {
    /// Writes `tenant`'s files as a backup's files section into a new file at `path`; returns how many.
    func writeBackupSection(of tenant: TenantID, to path: String, permissions: TenantFilePermissions) throws(TenantedError) -> Int {
        let output: Int32
        do {
            output = try TenantFileSystem.createNew(path, permissions)
        } catch {
            throw TenantedError(.storeFailure, "could not write the backup's files section", underlying: error)
        }
        var count = 0
        do {
            if let directory = try Self.openFolder(folder(of: tenant), creating: false, missingIsNil: true) {
                guard let stream = fdopendir(directory) else {
                    close(directory)
                    throw Self.failure("list a tenant's files", errno)
                }
                defer { closedir(stream) }
                for name in DirectoryListing.names(of: stream).sorted() {
                    guard let key = try? TenantFileKey(name) else { continue }
                    let input = openat(dirfd(stream), key.rawValue, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
                    guard input >= 0 else { continue }  // a link, or gone meanwhile
                    defer { close(input) }
                    var info = stat()
                    guard fstat(input, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
                    let size = Int64(info.st_size)
                    let line = Array("file \(size) \(key.rawValue)\n".utf8)
                    do {
                        try line.withUnsafeBytes { try TenantFileSystem.write(output, $0) }
                        guard try TenantFileSystem.copy(fromDescriptor: input, length: size, to: output) == size else {
                            throw TenantedError(.storeFailure, "tenant file '\(key)' of tenant '\(tenant)' changed size while it was backed up", tenant: tenant)
                        }
                    } catch let error as TenantFileSystem.Failure {
                        throw TenantedError(.storeFailure, "could not write the backup's files section", underlying: error)
                    }
                    count += 1
                }
            }
            do {
                try TenantFileSystem.syncAndClose(output)
            } catch {
                throw TenantedError(.storeFailure, "could not write the backup's files section", underlying: error)
            }
        } catch let error as TenantedError {
            close(output)
            unlink(path)
            throw error
        } catch {
            close(output)
            unlink(path)
            throw TenantedError(.storeFailure, "could not write the backup's files section", underlying: error)
        }
        return count
    }

    /// Writes the files of `archive` into a new private folder beside `tenant`'s folder; returns it.
    func stageRestore(of archive: TenantBackupArchive, for tenant: TenantID) throws(TenantedError) -> String {
        let folder = folder(of: tenant)
        try Self.makeFolders(TenantFileSystem.parent(of: folder))
        let staged = folder + ".restoring-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        guard mkdir(staged, 0o700) == 0 else { throw Self.failure("create a folder for restored files", errno) }
        chmod(staged, 0o700)
        do throws(TenantedError) {
            let directory = try Self.openFolder(staged, creating: false)
            defer { close(directory) }
            for file in archive.files {
                let output = openat(directory, file.key.rawValue, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
                guard output >= 0 else { throw Self.failure("create a restored file", errno) }
                fchmod(output, 0o600)
                let copied: Int64
                do {
                    copied = try TenantFileSystem.copy(from: archive.path, offset: file.offset, length: file.size, to: output)
                    try TenantFileSystem.syncAndClose(output)
                } catch {
                    close(output)
                    throw TenantedError(.storeFailure, "could not write a restored file", underlying: error)
                }
                guard copied == file.size else {
                    throw TenantedError(.badBackup, "the backup file changed while it was read; nothing was restored", detail: archive.path)
                }
            }
            fsync(directory)
        } catch {
            try? Self.removeFolder(staged)
            throw error
        }
        return staged
    }

    /// Puts the folder `staged` in place as `tenant`'s; returns where the tenant's previous folder
    /// went (`nil` when it had none), for ``finishRestore(aside:)`` or ``undoRestore(for:aside:)``.
    func swapIn(_ staged: String, for tenant: TenantID) throws(TenantedError) -> String? {
        let folder = folder(of: tenant)
        let candidate = folder + ".replaced-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        var aside: String?
        if rename(folder, candidate) == 0 {
            aside = candidate
        } else if errno != ENOENT {
            let code = errno
            try? Self.removeFolder(staged)
            throw Self.failure("move a tenant's files aside", code)
        }
        guard rename(staged, folder) == 0 else {
            let code = errno
            if let aside { rename(aside, folder) }
            try? Self.removeFolder(staged)
            throw Self.failure("put restored files in place", code)
        }
        let parent = open(TenantFileSystem.parent(of: folder), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if parent >= 0 {
            fsync(parent)
            close(parent)
        }
        return aside
    }

    /// After the restore committed: the previous files go.
    func finishRestore(aside: String?) {
        if let aside { try? Self.removeFolder(aside) }
    }

    /// After the restore failed: the restored files go, the previous ones come back.
    func undoRestore(for tenant: TenantID, aside: String?) {
        let folder = folder(of: tenant)
        try? Self.removeFolder(folder)
        if let aside { rename(aside, folder) }
    }

    /// Removes the folder at `path` and every entry in it (links removed, never followed); a link or
    /// file where the folder should be is removed itself. Nothing there is not an error.
    static func removeFolder(_ path: String) throws(TenantedError) {
        let directory = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard directory >= 0 else {
            switch errno {
            case ENOENT: return
            case ELOOP, ENOTDIR:
                guard unlink(path) == 0 || errno == ENOENT else { throw failure("remove a tenant's folder", errno) }
                return
            default: throw failure("open a tenant's folder", errno)
            }
        }
        if let stream = fdopendir(directory) {
            for name in DirectoryListing.names(of: stream) { unlinkat(dirfd(stream), name, 0) }
            closedir(stream)
        } else {
            close(directory)
        }
        guard rmdir(path) == 0 || errno == ENOENT else { throw failure("remove a tenant's folder", errno) }
    }
}
