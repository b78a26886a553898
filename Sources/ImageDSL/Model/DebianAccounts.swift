/// The accounts every Debian 12 system has: base-passwd's static users and groups
/// (`/usr/share/base-passwd/passwd.master` and `group.master`). Evaluation knows them without
/// the package layer; the build checks them against the layer's own copy.
public enum DebianAccounts {
    /// Static users and their uids.
    public static let users: [String: Int] = [
        "root": 0, "daemon": 1, "bin": 2, "sys": 3, "sync": 4, "games": 5, "man": 6, "lp": 7, "mail": 8, "news": 9, "uucp": 10,
        "proxy": 13, "www-data": 33, "backup": 34, "list": 38, "irc": 39, "_apt": 42, "nobody": 65534,
    ]

    /// Static groups and their gids.
    public static let groups: [String: Int] = [
        "root": 0, "daemon": 1, "bin": 2, "sys": 3, "adm": 4, "tty": 5, "disk": 6, "lp": 7, "mail": 8, "news": 9, "uucp": 10,
        "man": 12, "proxy": 13, "kmem": 15, "dialout": 20, "fax": 21, "voice": 22, "cdrom": 24, "floppy": 25, "tape": 26,
        "sudo": 27, "audio": 29, "dip": 30, "www-data": 33, "backup": 34, "operator": 37, "list": 38, "irc": 39, "src": 40,
        "shadow": 42, "utmp": 43, "video": 44, "sasl": 45, "plugdev": 46, "staff": 50, "games": 60, "users": 100, "nogroup": 65534,
    ]

    /// The known name `name` is one slip away from (one letter changed, added, removed, or two
    /// swapped), when it is not known itself: `sudoo` for `sudo`, `alcie` for `alice`. Names
    /// of three letters or fewer are left alone (`kvm` is not a slip for `kmem`).
    public static func slip(_ name: String, of known: Set<String>) -> String? {
        guard name.count >= 4, !known.contains(name) else { return nil }
        return known.sorted().first { isOneSlip(Array(name), Array($0)) }
    }

    private static func isOneSlip(_ a: [Character], _ b: [Character]) -> Bool {
        if a.count == b.count {
            let differing = a.indices.filter { a[$0] != b[$0] }
            if differing.count == 1 { return true }
            return differing.count == 2 && differing[1] == differing[0] + 1 && a[differing[0]] == b[differing[1]] && a[differing[1]] == b[differing[0]]
        }
        let (long, short) = a.count > b.count ? (a, b) : (b, a)
        guard long.count == short.count + 1 else { return false }
        let index = short.indices.first { short[$0] != long[$0] } ?? short.count
        return Array(long[..<index] + long[(index + 1)...]) == short
    }
}
