//! `apt-get install` in either stage, with apt's lists and downloads on cache mounts so neither
//! lands in a layer.

use pyslim_spec::Span;

use super::advice::Advice;
use super::builder::Builder;
use super::layout::strings;
use super::types::{Fs, Stage, StepMount};

/// `apt-get` needs two commands; the package names reach it as positional arguments, never
/// pasted into this line. Packages the base has installed already (the full python image
/// carries libpq-dev, libxml2-dev…) need neither: counted by dpkg, they skip apt's index
/// download, most of such a step's time.
pub const APT_INSTALL: &str = "set -e; export DEBIAN_FRONTEND=noninteractive; \
     have=$(dpkg-query -W -f '${db:Status-Status}\\n' \"$@\" 2>/dev/null | grep -cx installed || true); \
     if [ \"$have\" -eq $# ]; then echo \"pyslim: $* already installed\"; exit 0; fi; \
     apt-get -c /pyslim-apt/keep-downloads.conf update -q; \
     apt-get -c /pyslim-apt/keep-downloads.conf install -y -q --no-install-recommends \"$@\"; \
     rm -f /var/lib/dpkg/status-old";
/// Debian's official images delete every downloaded archive after each apt run
/// (`/etc/apt/apt.conf.d/docker-clean`), which would leave the archives cache mount empty. A
/// file given with `-c` is read after that one, so clearing its hooks here undoes it for our
/// runs only; the image's own configuration is untouched.
const APT_KEEP_DOWNLOADS: &str = "#clear DPkg::Post-Invoke;\n#clear APT::Update::Post-Invoke;\n";

/// The log files of /var/log an install appends to, besides apt's own directory: dpkg's,
/// update-alternatives' (maintainer scripts run it), and the login records useradd resets for
/// a user a package adds (`adduser --system` in redis-server's postinst).
pub const INSTALL_LOGS: [&str; 4] = [
    "/var/log/dpkg.log",
    "/var/log/alternatives.log",
    "/var/log/lastlog",
    "/var/log/faillog",
];

pub fn install(b: &mut Builder, stage: Stage, on: Fs, packages: &[String], origin: Span) -> Fs {
    let name = format!("apt-get install {}", packages.join(" "));
    install_named(b, stage, on, packages, Some(origin), name)
}

/// `install`, shown in the build's progress as `name`.
pub fn install_named(
    b: &mut Builder,
    stage: Stage,
    on: Fs,
    packages: &[String],
    origin: Option<Span>,
    name: String,
) -> Fs {
    let mut args = strings(&["sh", "-c", APT_INSTALL, "apt-install"]);
    args.extend(packages.iter().cloned());
    let cache = |dest: &str, what: &str| StepMount::Cache {
        dest: dest.into(),
        id: format!("pyslim-apt-{what}-{}", stage.name()),
        locked: true,
    };
    let mut mounts = vec![
        cache("/var/cache/apt", "archives"),
        cache("/var/lib/apt/lists", "lists"),
        StepMount::Files {
            dest: "/pyslim-apt".into(),
            files: vec![("keep-downloads.conf".into(), APT_KEEP_DOWNLOADS.into())],
        },
    ];
    if stage == Stage::Slim {
        // apt's and dpkg's bookkeeping (logs, debconf's database, ldconfig's cache) is
        // written to memory and dropped; dpkg's status database, which scanners read, stays.
        // /var/log itself stays the image's: packages make their log directories there
        // (redis-server's /var/log/redis), which a memory filesystem over it would drop.
        for dest in ["/var/log/apt", "/var/cache/debconf", "/var/cache/ldconfig"] {
            mounts.push(StepMount::Tmpfs { dest: dest.into() });
        }
        for dest in INSTALL_LOGS {
            mounts.push(StepMount::Sink {
                dest: dest.to_string(),
            });
        }
    }
    let fs = b.run(stage, on, name, args, mounts, origin);
    let fs = b.online(fs);
    b.advise(fs, Advice::Apt)
}
