//! What a valid name looks like, for each kind of name a spec holds. Each check is written once,
//! whatever keys share it; the readers say what was wrong in their own words.

/// A POSIX environment variable name: `env` keys and build arguments (which become variables).
pub(super) fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The id of something the client forwards to the build: a secret (`--secret id=ID`) or an SSH
/// agent (`--ssh ID`).
pub(super) fn is_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

/// A name the user gives and types again elsewhere: a target (`--target NAME`) or an extra
/// (a `[project.optional-dependencies]` key).
pub(super) fn is_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

/// A user `useradd` creates: up to 32 lower-case letters, digits, `_` or `-`.
pub(super) fn is_user_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 32
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// The users of Debian's base-passwd (`/usr/share/base-passwd/passwd.master`), which every
/// Debian-based python image has: useradd refuses a name that is taken. `gnats` is bullseye's.
pub(super) const SYSTEM_USERS: &[&str] = &[
    "root", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news", "uucp", "proxy",
    "www-data", "backup", "list", "irc", "gnats", "_apt", "nobody",
];

/// Its groups (`group.master`): pyslim creates a group named like the user, and groupadd
/// refuses a name that is taken.
pub(super) const SYSTEM_GROUPS: &[&str] = &[
    "root", "daemon", "bin", "sys", "adm", "tty", "disk", "lp", "mail", "news", "uucp", "man",
    "proxy", "kmem", "dialout", "fax", "voice", "cdrom", "floppy", "tape", "sudo", "audio", "dip",
    "www-data", "backup", "operator", "list", "irc", "src", "gnats", "shadow", "utmp", "video",
    "sasl", "plugdev", "staff", "games", "users", "nogroup",
];

/// A Debian package name, optionally with `:arch` and `=version`.
pub(super) fn is_apt_package(text: &str) -> bool {
    let (rest, version) = match text.split_once('=') {
        Some((name, version)) => (name, Some(version)),
        None => (text, None),
    };
    let (name, arch) = match rest.split_once(':') {
        Some((name, arch)) => (name, Some(arch)),
        None => (rest, None),
    };
    let name_ok = name.len() >= 2
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c));
    let arch_ok = arch.is_none_or(|a| {
        !a.is_empty()
            && a.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    });
    let version_ok = version.is_none_or(|v| {
        v.starts_with(|c: char| c.is_ascii_digit())
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".+~:-".contains(c))
    });
    name_ok && arch_ok && version_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names() {
        for good in ["A", "_x", "APP_VERSION", "a1"] {
            assert!(is_env_name(good), "{good}");
        }
        for bad in ["", "1A", "A-B", "A B", "É"] {
            assert!(!is_env_name(bad), "{bad}");
        }
    }

    #[test]
    fn ids_and_names() {
        assert!(is_id("pypi-netrc") && is_id(".x_1") && !is_id("") && !is_id("a b"));
        assert!(is_name("py3.12") && is_name("dev_tools") && !is_name("-x") && !is_name("a/b"));
        assert!(is_user_name("app") && is_user_name("_svc-1") && !is_user_name("App"));
        assert!(!is_user_name(&"a".repeat(33)));
    }

    /// The names a base image has must be ones a spec could otherwise write, or the check
    /// against them would never fire.
    #[test]
    fn system_names_are_user_names() {
        for name in SYSTEM_USERS.iter().chain(SYSTEM_GROUPS) {
            assert!(is_user_name(name), "{name}");
        }
        assert!(SYSTEM_USERS.contains(&"nobody") && SYSTEM_GROUPS.contains(&"nogroup"));
    }

    #[test]
    fn apt_package_names() {
        for good in [
            "libpq5",
            "libldap-2.5-0",
            "g++",
            "libc6:amd64",
            "curl=7.88.1-10+deb12u5",
        ] {
            assert!(is_apt_package(good), "{good}");
        }
        for bad in [
            "",
            "a",
            "Libpq",
            "libpq-dev libssl-dev",
            "-rf",
            "x;rm",
            "curl=",
            "$(id)",
        ] {
            assert!(!is_apt_package(bad), "{bad}");
        }
    }
}
