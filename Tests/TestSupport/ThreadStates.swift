import Foundation

/// Where each thread of this process stands, read from `/proc/self/task` without stopping anything
/// (unlike a debugger): its name, its state, the system call it is blocked in and the kernel
/// function it sleeps in. Enough to tell, in a CI log, a stall of Swift's cooperative pool or of the
/// NIO thread pool (both threads in `nanosleep`: SQLite's busy handler; in `fsync`: a loaded disk)
/// from a deadlock on a lock (`futex`), with no setting to turn on. Linux only; elsewhere empty.
package enum ThreadStates {
    /// A few x86_64 and aarch64 system call numbers a blocked thread is usually in.
    private static let syscallNames: [Int: String] = {
        #if arch(x86_64)
        [0: "read", 1: "write", 7: "poll", 17: "pread64", 18: "pwrite64", 23: "select", 35: "nanosleep", 61: "wait4",
         72: "fcntl", 73: "flock", 74: "fsync", 75: "fdatasync", 130: "rt_sigsuspend", 202: "futex", 230: "clock_nanosleep", 232: "epoll_wait",
         271: "ppoll", 281: "epoll_pwait"]
        #elseif arch(arm64)
        [22: "epoll_pwait", 25: "fcntl", 32: "flock", 63: "read", 64: "write", 67: "pread64", 68: "pwrite64",
         73: "ppoll", 82: "fsync", 83: "fdatasync", 98: "futex", 101: "nanosleep", 115: "clock_nanosleep", 260: "wait4"]
        #else
        [:]
        #endif
    }()

    /// One line per group of threads in the same name prefix, state, call and kernel function,
    /// with how many there are: `3 × NIO-ELT-0-#… sleeping in epoll_wait (do_epoll_wait)`.
    package static func summary() -> String {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        guard !tasks.isEmpty else { return "(no /proc/self/task to read the threads' states from)" }
        var groups: [String: Int] = [:]
        for task in tasks {
            let base = "/proc/self/task/" + task + "/"
            let name = read(base + "comm") ?? "?"
            let state = read(base + "stat").flatMap(Self.state(fromStat:)) ?? "?"
            let call = read(base + "syscall").map(Self.call(fromSyscall:)) ?? "?"
            let wchan = read(base + "wchan").flatMap { $0.isEmpty || $0 == "0" ? nil : $0 }
            let key = state == "running" ? "\(shortened(name)) running" : "\(shortened(name)) \(state) in \(call)" + (wchan.map { " (\($0))" } ?? "")
            groups[key, default: 0] += 1
        }
        return "\(tasks.count) threads: " + groups.sorted { $0.key < $1.key }.map { "\($0.value) × \($0.key)" }.joined(separator: "; ")
    }

    private static func read(_ path: String) -> String? {
        (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The state letter of `stat` (the field after the parenthesised name), in words.
    static func state(fromStat stat: String) -> String? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let rest = stat[stat.index(after: close)...].split(separator: " ")
        guard let letter = rest.first else { return nil }
        switch letter {
        case "R": return "running"
        case "S": return "sleeping"
        case "D": return "blocked (uninterruptible)"
        case "T", "t": return "stopped"
        case "Z": return "zombie"
        default: return String(letter)
        }
    }

    /// `syscall`'s first field as a name: `running`, a call's name, or its number.
    static func call(fromSyscall text: String) -> String {
        let first = text.split(separator: " ").first.map(String.init) ?? text
        guard let number = Int(first) else { return first }
        return syscallNames[number] ?? "syscall \(number)"
    }

    /// A thread name without its trailing number (`NIO-ELT-0-#12` → `NIO-ELT-0-#…`), so a pool's
    /// threads group together.
    static func shortened(_ name: String) -> String {
        var trimmed = name
        while let last = trimmed.last, last.isNumber { trimmed.removeLast() }
        return trimmed.count < name.count ? trimmed + "…" : name
    }
}
