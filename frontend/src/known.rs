//! The Debian packages and PyPI projects pyslim knows by name, for Debian 12 (bookworm), the
//! release the `python:3.11` images are built on. One table, read by the advice shown when
//! the dependency step fails and by the lint, so the two never name different packages.

/// A build-time `-dev` package, and the package of the shared library an extension built
/// with it links.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DevPackage {
    pub dev: &'static str,
    pub library: &'static str,
}

const fn dev(dev: &'static str, library: &'static str) -> DevPackage {
    DevPackage { dev, library }
}

pub const DEV_PACKAGES: &[DevPackage] = &[
    dev("libpq-dev", "libpq5"),
    dev("libldap2-dev", "libldap-2.5-0"),
    // bookworm's real name; libldap2-dev is the transitional package that pulls it in.
    dev("libldap-dev", "libldap-2.5-0"),
    dev("default-libmysqlclient-dev", "libmariadb3"),
    dev("libmariadb-dev", "libmariadb3"),
    dev("libmariadb-dev-compat", "libmariadb3"),
    dev("libsasl2-dev", "libsasl2-2"),
    dev("libxml2-dev", "libxml2"),
    dev("libxslt1-dev", "libxslt1.1"),
    dev("libffi-dev", "libffi8"),
    dev("libssl-dev", "libssl3"),
    dev("libjpeg-dev", "libjpeg62-turbo"),
    dev("libjpeg62-turbo-dev", "libjpeg62-turbo"),
    dev("zlib1g-dev", "zlib1g"),
    dev("libsqlite3-dev", "libsqlite3-0"),
    dev("libcurl4-openssl-dev", "libcurl4"),
    dev("libpng-dev", "libpng16-16"),
    dev("libfreetype-dev", "libfreetype6"),
    dev("libfreetype6-dev", "libfreetype6"),
];

/// Libraries every slim image already has, because Python itself links them (`ssl`,
/// `ctypes`, `zlib`, `sqlite3`): a `-dev` package of one of these needs nothing in `runtime:`.
pub const IN_SLIM_IMAGE: &[&str] = &["libssl3", "libffi8", "zlib1g", "libsqlite3-0"];

/// Libraries apt installs along with a runtime package (its `Depends:`), so listing the one
/// is enough.
const BROUGHT_ALONG: &[(&str, &[&str])] = &[
    ("libldap-2.5-0", &["libsasl2-2"]),
    ("libxslt1.1", &["libxml2"]),
    ("libfreetype6", &["libpng16-16"]),
];

/// A PyPI project that builds against system libraries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Project {
    /// The name normalised as PEP 503 says (see [`crate::sources::requirements::project`]).
    pub name: &'static str,
    /// PyPI has no Linux wheel of it, so every build compiles it; the others usually install
    /// from a wheel that carries its own libraries.
    pub always_compiled: bool,
    /// What a failing build's log says when the headers or tools are missing.
    pub symptoms: &'static [&'static str],
    /// Build-time packages, beyond what the `python:X` compile image has.
    pub system: &'static [&'static str],
    /// The libraries the built extension loads.
    pub runtime: &'static [&'static str],
    /// What fails in an image without them.
    pub fails: &'static str,
}

pub const PROJECTS: &[Project] = &[
    Project {
        name: "psycopg2",
        always_compiled: true,
        symptoms: &["pg_config executable not found"],
        system: &["libpq-dev"],
        runtime: &["libpq5"],
        fails: "`import psycopg2` fails with `libpq.so.5: cannot open shared object file`",
    },
    Project {
        name: "mysqlclient",
        always_compiled: true,
        symptoms: &[
            "mysql_config not found",
            "Can not find valid pkg-config name",
            "pkg-config: not found",
        ],
        system: &["default-libmysqlclient-dev", "pkg-config"],
        runtime: &["libmariadb3"],
        fails: "`import MySQLdb` fails with `libmariadb.so.3: cannot open shared object file`",
    },
    Project {
        name: "python-ldap",
        always_compiled: true,
        symptoms: &[
            "lber.h: No such file or directory",
            "sasl/sasl.h: No such file or directory",
        ],
        system: &["libldap2-dev", "libsasl2-dev"],
        runtime: &["libldap-2.5-0", "libsasl2-2"],
        fails: "`import ldap` fails with `libldap-2.5.so.0: cannot open shared object file`",
    },
    Project {
        name: "uwsgi",
        always_compiled: true,
        // It builds on the compile image's libxml2-dev without being asked to.
        symptoms: &[],
        system: &[],
        runtime: &["libxml2"],
        fails: "`uwsgi` fails to start with `libxml2.so.2: cannot open shared object file`",
    },
    Project {
        name: "lxml",
        always_compiled: false,
        symptoms: &["libxml/xmlversion.h: No such file or directory"],
        system: &["libxml2-dev", "libxslt1-dev"],
        runtime: &["libxml2", "libxslt1.1"],
        fails: "`import lxml.etree` fails with `libxslt.so.1: cannot open shared object file`",
    },
    Project {
        name: "cffi",
        always_compiled: false,
        symptoms: &["ffi.h: No such file or directory"],
        system: &["libffi-dev"],
        runtime: &["libffi8"],
        fails: "`import _cffi_backend` fails with `libffi.so.8: cannot open shared object file`",
    },
    Project {
        name: "cryptography",
        always_compiled: false,
        symptoms: &["openssl/opensslv.h: No such file or directory"],
        system: &["libssl-dev"],
        runtime: &["libssl3"],
        fails: "`import cryptography.hazmat.bindings._rust` fails with `libssl.so.3: cannot open shared object file`",
    },
    Project {
        name: "pillow",
        always_compiled: false,
        symptoms: &["The headers or library files could not be found for jpeg"],
        system: &["libjpeg-dev", "zlib1g-dev"],
        runtime: &["libjpeg62-turbo"],
        fails: "`from PIL import Image` fails with `libjpeg.so.62: cannot open shared object file`",
    },
];

pub fn dev_package(name: &str) -> Option<&'static DevPackage> {
    DEV_PACKAGES.iter().find(|d| d.dev == name)
}

/// `name` normalised as PEP 503 says.
pub fn project(name: &str) -> Option<&'static Project> {
    PROJECTS.iter().find(|p| p.name == name)
}

/// Whether an image whose `runtime:` lists `runtime` has `library`: listed, in every slim
/// image, or brought along by a listed package (as apt installs its `Depends:`).
pub fn has_library(library: &str, runtime: &[&str]) -> bool {
    runtime.contains(&library)
        || IN_SLIM_IMAGE.contains(&library)
        || runtime.iter().any(|package| brings(package, library))
}

fn brings(package: &str, library: &str) -> bool {
    // A -dev package depends on its library (the lint warns about the headers separately).
    dev_package(package).is_some_and(|d| d.library == library)
        || BROUGHT_ALONG
            .iter()
            .any(|(p, brought)| *p == package && brought.contains(&library))
}

/// What to add to `runtime` for an image to have every library of `needed`: each one it
/// lacks, once, except those another one added brings along.
pub fn to_add<'a>(needed: &[&'a str], runtime: &[&str]) -> Vec<&'a str> {
    let mut absent: Vec<&'a str> = Vec::new();
    for library in needed {
        if !has_library(library, runtime) && !absent.contains(library) {
            absent.push(library);
        }
    }
    absent
        .iter()
        .copied()
        .filter(|library| !absent.iter().any(|other| brings(other, library)))
        .collect()
}

/// The commands on PATH in a `python:X-slim` image: those of Debian 12's required packages,
/// apt's and ca-certificates', and Python's own (see [`in_base_image`]). A name too many here
/// only means a missing command goes unreported; one too few, a working spec refused.
#[rustfmt::skip]
const BASE_COMMANDS: &[&str] = &[
    "add-shell", "addgroup", "addpart", "adduser", "agetty", "apt", "apt-cache", "apt-cdrom",
    "apt-config", "apt-get", "apt-key", "apt-mark", "arch", "awk", "b2sum", "badblocks",
    "base32", "base64", "basename", "basenc", "bash", "bashbug", "blkdiscard", "blkid",
    "blkzone", "blockdev", "captoinfo", "cat", "chage", "chattr", "chcon", "chcpu", "chfn",
    "chgpasswd", "chgrp", "chmem", "chmod", "choom", "chown", "chpasswd", "chroot", "chrt",
    "chsh", "cksum", "clear", "clear_console", "cmp", "comm", "cp", "cpgr", "cppw", "csplit",
    "ctrlaltdel", "cut", "dash", "date", "dd", "deb-systemd-helper", "deb-systemd-invoke",
    "debconf", "debconf-apt-progress", "debconf-communicate", "debconf-copydb",
    "debconf-escape", "debconf-set-selections", "debconf-show", "debugfs", "delgroup",
    "delpart", "deluser", "df", "diff", "diff3", "dir", "dircolors", "dirname", "dmesg",
    "dnsdomainname", "domainname", "dpkg", "dpkg-deb", "dpkg-divert", "dpkg-fsys-usrunmess",
    "dpkg-maintscript-helper", "dpkg-preconfigure", "dpkg-query", "dpkg-realpath",
    "dpkg-reconfigure", "dpkg-split", "dpkg-statoverride", "dpkg-trigger", "du", "dumpe2fs",
    "e2freefrag", "e2fsck", "e2image", "e2label", "e2mmpstatus", "e2scrub", "e2scrub_all",
    "e2undo", "e4crypt", "e4defrag", "echo", "egrep", "env", "expand", "expiry", "expr",
    "factor", "faillock", "faillog", "fallocate", "false", "fgrep", "filefrag", "find",
    "findfs", "findmnt", "flock", "fmt", "fold", "fsck", "fsck.cramfs", "fsck.ext2",
    "fsck.ext3", "fsck.ext4", "fsck.minix", "fsfreeze", "fstab-decode", "fstrim", "getconf",
    "getent", "getopt", "getty", "gpasswd", "gpgv", "grep", "groupadd", "groupdel", "groupmems",
    "groupmod", "groups", "grpck", "grpconv", "grpunconv", "gunzip", "gzexe", "gzip",
    "hardlink", "head", "hostid", "hostname", "i386", "iconv", "iconvconfig", "id", "infocmp",
    "infotocap", "install", "installkernel", "invoke-rc.d", "ionice", "ipcmk", "ipcrm", "ipcs",
    "ischroot", "isosize", "join", "killall5", "last", "lastb", "lastlog", "ld.so", "ldattach",
    "ldconfig", "ldd", "link", "linux32", "linux64", "ln", "locale", "localedef", "logger",
    "login", "logname", "losetup", "ls", "lsattr", "lsblk", "lscpu", "lsipc", "lslocks",
    "lslogins", "lsmem", "lsns", "mawk", "mcookie", "md5sum", "md5sum.textutils", "mesg",
    "mkdir", "mke2fs", "mkfifo", "mkfs", "mkfs.bfs", "mkfs.cramfs", "mkfs.ext2", "mkfs.ext3",
    "mkfs.ext4", "mkfs.minix", "mkhomedir_helper", "mklost+found", "mknod", "mkswap", "mktemp",
    "more", "mount", "mountpoint", "mv", "namei", "nawk", "newgrp", "newusers", "nice",
    "nisdomainname", "nl", "nohup", "nologin", "nproc", "nsenter", "numfmt", "od", "pager",
    "pam-auth-update", "pam_getenv", "pam_namespace_helper", "pam_timestamp_check", "partx",
    "passwd", "paste", "pathchk", "perl", "perl5.36.0", "pidof", "pinky", "pivot_root", "pldd",
    "pr", "printenv", "printf", "prlimit", "ptx", "pwck", "pwconv", "pwd", "pwhistory_helper",
    "pwunconv", "rbash", "readlink", "readprofile", "realpath", "remove-shell", "rename",
    "rename.ul", "renice", "reset", "resize2fs", "resizepart", "rev", "rgrep", "rm", "rmdir",
    "rmt-tar", "rtcwake", "run-parts", "runcon", "runuser", "savelog", "script", "scriptlive",
    "scriptreplay", "sdiff", "sed", "select-editor", "sensible-browser", "sensible-editor",
    "sensible-pager", "seq", "service", "setarch", "setpriv", "setsid", "setterm", "sg", "sh",
    "sha1sum", "sha224sum", "sha256sum", "sha384sum", "sha512sum", "shadowconfig", "shred",
    "shuf", "sleep", "sort", "split", "start-stop-daemon", "stat", "stdbuf", "stty", "su",
    "sulogin", "sum", "swaplabel", "swapoff", "swapon", "switch_root", "sync", "tabs", "tac",
    "tail", "tar", "tarcat", "taskset", "tee", "tempfile", "test", "tic", "timeout", "toe",
    "touch", "tput", "tr", "true", "truncate", "tset", "tsort", "tty", "tune2fs", "tzselect",
    "uclampset", "umount", "uname", "uncompress", "unexpand", "uniq", "unix_chkpwd",
    "unix_update", "unlink", "unshare", "update-alternatives", "update-ca-certificates",
    "update-passwd", "update-rc.d", "update-shells", "useradd", "userdel", "usermod", "users",
    "utmpdump", "vdir", "vigr", "vipw", "wall", "wc", "wdctl", "wheel", "whereis", "which",
    "which.debianutils", "who", "whoami", "wipefs", "x86_64", "xargs", "yes", "ypdomainname",
    "zcat", "zcmp", "zdiff", "zdump", "zegrep", "zfgrep", "zforce", "zgrep", "zic", "zless",
    "zmore", "znew", "zramctl",
];

/// Whether the runtime base image has `command` on PATH.
pub fn in_base_image(command: &str) -> bool {
    // Python's commands, with or without their version (`python3.11`, `pip3`, `pydoc3.12`).
    ["python", "pip", "pydoc", "idle", "2to3"]
        .iter()
        .any(|p| command.starts_with(p))
        || BASE_COMMANDS.binary_search(&command).is_ok()
}

/// The top-level modules every `python:X-slim` image can import without installing anything:
/// the standard library (Python 3.11's `sys.stdlib_module_names`, private ones left out) and
/// the packages the images add (pip, setuptools, wheel).
#[rustfmt::skip]
const BASE_MODULES: &[&str] = &[
    "abc", "aifc", "antigravity", "argparse", "array", "ast", "asynchat", "asyncio", "asyncore",
    "atexit", "audioop", "base64", "bdb", "binascii", "bisect", "builtins", "bz2", "cProfile",
    "calendar", "cgi", "cgitb", "chunk", "cmath", "cmd", "code", "codecs", "codeop",
    "collections", "colorsys", "compileall", "concurrent", "configparser", "contextlib",
    "contextvars", "copy", "copyreg", "crypt", "csv", "ctypes", "curses", "dataclasses",
    "datetime", "dbm", "decimal", "difflib", "dis", "distutils", "doctest", "email",
    "encodings", "ensurepip", "enum", "errno", "faulthandler", "fcntl", "filecmp", "fileinput",
    "fnmatch", "fractions", "ftplib", "functools", "gc", "genericpath", "getopt", "getpass",
    "gettext", "glob", "graphlib", "grp", "gzip", "hashlib", "heapq", "hmac", "html", "http",
    "idlelib", "imaplib", "imghdr", "imp", "importlib", "inspect", "io", "ipaddress",
    "itertools", "json", "keyword", "lib2to3", "linecache", "locale", "logging", "lzma",
    "mailbox", "mailcap", "marshal", "math", "mimetypes", "mmap", "modulefinder", "msilib",
    "msvcrt", "multiprocessing", "netrc", "nis", "nntplib", "nt", "ntpath", "nturl2path",
    "numbers", "opcode", "operator", "optparse", "os", "ossaudiodev", "pathlib", "pdb",
    "pickle", "pickletools", "pip", "pipes", "pkg_resources", "pkgutil", "platform", "plistlib",
    "poplib", "posix", "posixpath", "pprint", "profile", "pstats", "pty", "pwd", "py_compile",
    "pyclbr", "pydoc", "pydoc_data", "pyexpat", "queue", "quopri", "random", "re", "readline",
    "reprlib", "resource", "rlcompleter", "runpy", "sched", "secrets", "select", "selectors",
    "setuptools", "shelve", "shlex", "shutil", "signal", "site", "smtpd", "smtplib", "sndhdr",
    "socket", "socketserver", "spwd", "sqlite3", "sre_compile", "sre_constants", "sre_parse",
    "ssl", "stat", "statistics", "string", "stringprep", "struct", "subprocess", "sunau",
    "symtable", "sys", "sysconfig", "syslog", "tabnanny", "tarfile", "telnetlib", "tempfile",
    "termios", "textwrap", "this", "threading", "time", "timeit", "tkinter", "token",
    "tokenize", "tomllib", "trace", "traceback", "tracemalloc", "tty", "turtle", "turtledemo",
    "types", "typing", "unicodedata", "unittest", "urllib", "uu", "uuid", "venv", "warnings",
    "wave", "weakref", "webbrowser", "wheel", "winreg", "winsound", "wsgiref", "xdrlib", "xml",
    "xmlrpc", "zipapp", "zipfile", "zipimport", "zlib", "zoneinfo",
];

/// Whether `python -m MODULE` finds `module` (a top-level name) in every slim image.
pub fn base_module(module: &str) -> bool {
    module.starts_with('_') || BASE_MODULES.binary_search(&module).is_ok()
}

/// `[a, b]` as a spec writes it.
pub fn yaml_list(names: &[&str]) -> String {
    format!("[{}]", names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dev_package_names_its_bookworm_library() {
        let expected = [
            ("libpq-dev", "libpq5"),
            ("libldap2-dev", "libldap-2.5-0"),
            ("default-libmysqlclient-dev", "libmariadb3"),
            ("libxml2-dev", "libxml2"),
            ("libxslt1-dev", "libxslt1.1"),
            ("libffi-dev", "libffi8"),
            ("libssl-dev", "libssl3"),
            ("libjpeg-dev", "libjpeg62-turbo"),
            ("libjpeg62-turbo-dev", "libjpeg62-turbo"),
            ("zlib1g-dev", "zlib1g"),
            ("libsasl2-dev", "libsasl2-2"),
        ];
        for (dev, library) in expected {
            assert_eq!(dev_package(dev).map(|d| d.library), Some(library), "{dev}");
        }
        assert_eq!(dev_package("libfoo-dev"), None);
        let mut names: Vec<_> = DEV_PACKAGES.iter().map(|d| d.dev).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), DEV_PACKAGES.len(), "one entry per package");
    }

    #[test]
    fn a_project_needs_what_its_dev_packages_link() {
        // The two tables agree: every library a project's -dev packages link is among its
        // runtime packages, or the slim image has it, or they bring it along.
        for project in PROJECTS {
            assert!(!project.runtime.is_empty(), "{}", project.name);
            for system in project.system.iter().filter(|s| s.ends_with("-dev")) {
                let dev = dev_package(system)
                    .unwrap_or_else(|| panic!("{}: {system} is not in DEV_PACKAGES", project.name));
                assert!(
                    has_library(dev.library, project.runtime),
                    "{}: {} links {}",
                    project.name,
                    system,
                    dev.library
                );
            }
            // The names are the ones the requirements parser's normalisation yields.
            assert_eq!(
                crate::sources::requirements::project(project.name),
                project.name
            );
            assert!(project.fails.contains("cannot open shared object file"));
        }
        assert_eq!(
            project("mysqlclient").map(|p| (p.system, p.runtime)),
            Some((
                &["default-libmysqlclient-dev", "pkg-config"][..],
                &["libmariadb3"][..]
            ))
        );
        assert_eq!(project("psycopg2-binary"), None);
    }

    #[test]
    fn the_base_image_commands_and_modules_are_found() {
        // Looked up by binary search.
        assert!(BASE_COMMANDS.is_sorted(), "BASE_COMMANDS is sorted");
        assert!(BASE_MODULES.is_sorted(), "BASE_MODULES is sorted");
        for command in [
            "sh",
            "bash",
            "env",
            "sleep",
            "apt-get",
            "python3.11",
            "pip",
            "useradd",
        ] {
            assert!(in_base_image(command), "{command}");
        }
        for command in ["gunicorn", "redis-server", "tini", "uwsgi"] {
            assert!(!in_base_image(command), "{command}");
        }
        for module in ["http", "json", "venv", "pip", "_pyrepl", "zoneinfo"] {
            assert!(base_module(module), "{module}");
        }
        assert!(!base_module("flask") && !base_module("app"));
    }

    #[test]
    fn libraries_come_listed_with_the_slim_image_or_along_with_another() {
        assert!(has_library("libpq5", &["libpq5"]));
        assert!(!has_library("libpq5", &["libldap-2.5-0"]));
        assert!(has_library("libssl3", &[]), "every slim image has it");
        assert!(has_library("libsasl2-2", &["libldap-2.5-0"]));
        assert!(has_library("libxml2", &["libxslt1.1"]));
        assert!(!has_library("libxslt1.1", &["libxml2"]));
        assert!(
            has_library("libpq5", &["libpq-dev"]),
            "a -dev package depends on it"
        );
        assert_eq!(
            to_add(&["libldap-2.5-0", "libsasl2-2", "libpq5", "libssl3"], &[]),
            ["libldap-2.5-0", "libpq5"]
        );
        assert_eq!(
            to_add(&["libldap-2.5-0", "libsasl2-2"], &["libsasl2-2"]),
            ["libldap-2.5-0"]
        );
        assert_eq!(to_add(&["libpq5", "libpq5"], &[]), ["libpq5"]);
        assert!(to_add(&["libldap-2.5-0", "libsasl2-2"], &["libldap-2.5-0"]).is_empty());
    }
}
