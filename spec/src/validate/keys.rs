//! Every key of a spec, declared once: its name, what its value is, where it may be written and
//! how a target combines it, what it means, its JSON Schema, its reader (a method of the
//! validator) and the `Fields` slot it is read into. The reference table in README.md and
//! `schema/pyslim.schema.json` are generated from this table; `declare.rs` turns it into code.
//!
//! A new key is an entry here, its reader, and its field on [`Spec`](crate::model::Spec); then
//! `PYSLIM_UPDATE_SCHEMA=1 cargo test -p pyslim-spec --test schema` regenerates the documents.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::declare::{declare_keys, sub_properties};
use crate::model::{
    AbsolutePath, App, AptPackage, Arg, Bases, BuildCommand, ContextPath, EnvName, Extra, Flavor,
    Group, Index, Installer, MissingLibraries, Port, PythonVersion, SmokeTest, Ssh, TargetInfo,
    User, Writable,
};
use crate::schema::properties;
use crate::source::{Span, Spanned};

pub(super) use super::declare::sub_key_names;
pub use super::declare::{At, InTargets, Key, SubKey, names_at};

// In the reference's order, which is also the order of a target's keys in messages: a target's
// `description` first, since it says what the target is before what it changes.
declare_keys! {
    description: Option<String> {
        name: "description",
        type: "text",
        targets: Only,
        read: description,
        spec: none,
        meaning: "What this target is for, shown by `--call=targets`.",
        schema: json!({"type": "string"}),
    }
    python: Option<Spanned<PythonVersion>> {
        name: "python",
        type: "string",
        targets: No,
        read: python,
        spec: direct,
        meaning: r#"Python version, e.g. `"3.13"`; selects `python:3.13` (compile) and `python:3.13-slim` (runtime). Quote it: YAML reads `3.10` as a number. Left out, the project says, first found: `.python-version` (in the app's directory, then the context root; `3.13.1` means 3.13), the newest of 3.13, 3.12 and 3.11 that `requires-python` in `pyproject.toml` allows, `Pipfile`'s `[requires] python_version`, `runtime.txt` (`python-3.11.4`); the build log and `--call=outline` say which. A version `requires-python` does not allow is an error."#,
        schema: json!({
            "type": "string",
            "pattern": "^(3\\.[0-9]+(\\.[0-9]+)?|.*\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}.*)$",
            "examples": ["3.13", "3.12", "3.11"]
        }),
    }
    requirements: Vec<Spanned<ContextPath>> {
        name: "requirements",
        type: "path or list of paths",
        targets: Add,
        read: paths,
        spec: direct,
        meaning: "requirements files, relative to the build context. Their wheels are built in the compile stage, which sees only these files and what they pull in (`-r`, `-c`, local paths, `--find-links` directories). Markers, extras and `--hash` pins work as in pip. A `pyproject.toml` here means its PEP 621 `[project] dependencies` (or poetry's `[tool.poetry.dependencies]`, translated to pip requirements): the dependency step then sees only that list, so a version bump rebuilds only the app.",
        schema: strings(),
    }
    extras: Vec<Spanned<Extra>> {
        name: "extras",
        type: "list",
        targets: Add,
        read: extras,
        spec: direct,
        meaning: "optional-dependency groups of the `pyproject.toml` in `requirements` (`[project.optional-dependencies]`, or poetry's `[tool.poetry.extras]`), or of the project a lock was written for, e.g. `[postgres]`.",
        schema: strings(),
    }
    groups: Vec<Spanned<Group>> {
        name: "groups",
        type: "list",
        targets: Add,
        read: groups,
        spec: direct,
        meaning: "dependency groups to install besides the project's dependencies: PEP 735 `[dependency-groups]` of the `pyproject.toml` in `requirements`, or the groups of the lock the build honours (uv's and PEP 735 groups, poetry's groups, pdm's dev-groups, Pipfile's `develop` as `dev`), e.g. `[test]` in a `test` target. Without it, a lock's default groups: none for uv, poetry and Pipfile (a production image), pylock's `default-groups`.",
        schema: strings(),
    }
    app: Option<App> {
        name: "app",
        type: "path or `{path, as}`",
        targets: No,
        read: app,
        spec: direct,
        meaning: "the app, a directory of the build context. A project with a build system (`[build-system]` in pyproject.toml, or setup.py) is built to a wheel in its own step and installed in its own layer after the dependencies; its dependencies (`[project] dependencies`, poetry's `[tool.poetry.dependencies]`, setup.cfg `install_requires`, the files `[tool.setuptools.dynamic]` names, or, when only its build backend knows them, what the backend reports) are installed without being listed again. A directory without one (`main.py`, a Django project) is copied as it is into `workdir` (default `/app`), owned by root, in its own layer after the dependencies. `{path: ., as: source}` copies a project that has a build system; `as: package` builds a wheel. Poetry's `package-mode = false` and uv's `[tool.uv] package = false` mean `as: source`.",
        schema: json!({
            "anyOf": [
                {"type": "string"},
                {"type": "object", "properties": sub_properties(APP_KEYS), "required": ["path"], "additionalProperties": false}
            ]
        }),
    }
    system: Vec<Spanned<AptPackage>> {
        name: "system",
        type: "list of apt packages",
        targets: Add,
        read: apt_packages,
        spec: direct,
        meaning: "build-time packages (compilers come with the base; add `-dev` headers here). Compile stage only.",
        schema: strings(),
    }
    runtime: Vec<Spanned<AptPackage>> {
        name: "runtime",
        type: "list of apt packages",
        targets: Add,
        read: apt_packages,
        spec: direct,
        meaning: "run-time packages (the shared libraries your compiled dependencies load). Installed into the image. Alone, with no `requirements` or `app`, they make an image of system packages only (`runtime: [redis-server]`).",
        schema: strings(),
    }
    entrypoint: Option<Spanned<Vec<String>>> {
        name: "entrypoint",
        type: "list (exec form)",
        targets: Replace,
        read: argv,
        spec: direct,
        meaning: "the image's ENTRYPOINT. A new entrypoint drops the base image's CMD, as in a Dockerfile.",
        schema: argv(),
    }
    cmd: Option<Spanned<Vec<String>>> {
        name: "cmd",
        type: "list (exec form)",
        targets: Replace,
        read: argv,
        spec: direct,
        meaning: "the image's CMD; `[]` clears it.",
        schema: argv(),
    }
    env: Vec<(Spanned<EnvName>, Spanned<String>)> {
        name: "env",
        type: "mapping",
        targets: Merge,
        read: env,
        spec: direct,
        meaning: "environment of the image.",
        schema: mapping(),
    }
    workdir: Option<Spanned<AbsolutePath>> {
        name: "workdir",
        type: "absolute path",
        targets: Replace,
        read: workdir,
        spec: direct,
        meaning: "working directory, created and owned by `user`; one the base image has already (`/srv`, `/home`) is handed to `user` as well.",
        schema: json!({"type": "string", "pattern": "^/"}),
    }
    user: Option<Spanned<User>> {
        name: "user",
        type: "name, `UID[:GID]` or `{name, uid, gid}`",
        targets: Replace,
        read: user,
        spec: defaulted,
        meaning: "the user the container runs as, made in the image with fixed ids: a name (`web`, ids 10001), `UID[:GID]` (`20001:20001`, named `app`; `20001:0` puts it in group root, as OpenShift expects) or `{name, uid, gid}`. Default `app`, 10001:10001. The image's `User` is numeric (`10001:10001`), so Kubernetes' `runAsNonRoot` can check it. Ids run from 1000 to 2147483646; names and ids the Debian base has (`daemon`, `nobody`, 1–999) are refused. `root` (or `0`) runs as root.",
        schema: json!({"anyOf": [
            {"type": "string", "pattern": "^(root|[a-z_][a-z0-9_-]{0,31}|[0-9]+(:[0-9]+)?)$"},
            {"type": "integer", "minimum": 0, "maximum": User::MAX_ID},
            {"type": "object", "properties": sub_properties(USER_KEYS), "additionalProperties": false}
        ]}),
    }
    writable: Vec<Writable> {
        name: "writable",
        type: "list of absolute paths or `{path, volume}`",
        targets: Add,
        read: writable,
        spec: direct,
        meaning: "directories the app writes (uploads, Django's `MEDIA_ROOT`, Flask's instance folder, a cache), made in one layer after `workdir` and owned by `user`, mode 0755; one the base image has already is handed to `user` as well. `{path: /data, volume: true}` also declares a VOLUME, which a container then gets as a copy of the directory, owner included. Not `/`, nor inside `/tmp`, `/wheels`, `/pyslim-…`, `/proc`, `/sys` or `/dev`.",
        schema: json!({"anyOf": [
            {"type": "string", "pattern": "^/"},
            {"type": "array", "items": {"anyOf": [
                {"type": "string", "pattern": "^/"},
                {"type": "object", "properties": sub_properties(WRITABLE_KEYS), "required": ["path"], "additionalProperties": false}
            ]}}
        ]}),
    }
    build_commands: Vec<BuildCommand> {
        name: "build-commands",
        type: "list of argv lists or `{run, network, user}`",
        targets: Add,
        read: build_commands,
        spec: direct,
        meaning: "commands run in the finished image at build time, in order, each leaving a layer of its own: `[python, manage.py, collectstatic, --noinput]`, `[python, -m, compileall, -q, .]`. They run in `workdir` with `env:`, as `user` (the directories they write belong in `writable:`) and with no network; `{run: [...], network: true, user: root}` allows either. A failing command fails the build at its line, with its output.",
        schema: json!({"type": "array", "items": {"anyOf": [
            {"type": "array", "items": {"type": "string"}, "minItems": 1},
            {"type": "object", "properties": sub_properties(BUILD_COMMAND_KEYS), "required": ["run"], "additionalProperties": false}
        ]}}),
    }
    expose: Vec<Spanned<Port>> {
        name: "expose",
        type: "list of ports",
        targets: Add,
        read: expose,
        spec: direct,
        meaning: "`8000`, `53/udp`.",
        schema: json!({
            "type": "array",
            "items": {"anyOf": [
                {"type": "integer", "minimum": 1, "maximum": 65535},
                {"type": "string", "pattern": "^[0-9]+(/(tcp|udp))?$"}
            ]}
        }),
    }
    labels: BTreeMap<String, String> {
        name: "labels",
        type: "mapping",
        targets: Merge,
        read: labels,
        spec: direct,
        meaning: "image labels; `docker buildx build --label` adds more.",
        schema: mapping(),
    }
    base: Option<Bases> {
        name: "base",
        type: "`{compile, runtime}`",
        targets: No,
        read: base,
        spec: derived,
        meaning: r#"override either base image, e.g. `{runtime: "registry.example.com/python:3.11-slim"}`."#,
        schema: json!({
            "type": "object",
            "properties": sub_properties(BASE_KEYS),
            "additionalProperties": false
        }),
    }
    index: Index {
        name: "index",
        type: "mapping or `none`",
        targets: No,
        read: index,
        spec: direct,
        meaning: "`{url, extra, secret}`: the index that replaces PyPI, more indexes to search, and the id of a BuildKit secret holding a **netrc** file with their credentials (`docker buildx build --secret id=pypi-netrc,src=$HOME/.netrc`). The secret is mounted only for the downloading steps; credentials are refused inside URLs (`user:pass@`, a `token=`, `key=`, `password=`… in the query, a `#` fragment). `index: none` builds offline from `find-links` only.",
        schema: json!({"anyOf": [
            {"const": "none"},
            {"type": "object", "properties": sub_properties(INDEX_KEYS), "additionalProperties": false}
        ]}),
    }
    find_links: Vec<Spanned<ContextPath>> {
        name: "find-links",
        type: "list of context directories",
        targets: No,
        read: paths,
        spec: direct,
        meaning: "wheelhouses pip looks in first (offline builds, vendored wheels).",
        schema: strings(),
    }
    ssh: Option<Ssh> {
        name: "ssh",
        type: "id or `{id, known-hosts}`",
        targets: No,
        read: ssh,
        spec: direct,
        meaning: "forward the client's SSH agent (`docker buildx build --ssh default`) to the downloading steps, for `pkg @ git+ssh://…` requirements. `known-hosts` pins the hosts' keys (`ssh-keyscan HOST` lines); without it a key is accepted on first use (and `--call=check` warns).",
        schema: json!({"anyOf": [
            {"type": "string", "pattern": ID_PATTERN},
            {"type": "object", "properties": sub_properties(SSH_KEYS), "additionalProperties": false}
        ]}),
    }
    host_network: Option<Span> {
        name: "network",
        type: "`host`",
        targets: No,
        read: network,
        spec: direct,
        meaning: "the downloading steps use the host's network (an index on the host's loopback or VPN); build with `--allow network.host`.",
        schema: json!({"enum": ["host", "default"]}),
    }
    installer: Option<Spanned<Installer>> {
        name: "installer",
        type: "`uv` or `pip`",
        targets: No,
        read: installer,
        spec: defaulted,
        meaning: "what installs the built wheels into the image. Default `uv` (0.13.9, pinned, fetched from the index into the compile stage and run from a read-only mount: it never lands in the image); both leave the same files, uv in about half the time (see bench/). An offline spec (`index: none`) uses pip unless it asks for uv.",
        schema: json!({"enum": ["uv", "pip"]}),
    }
    flavor: Option<Spanned<Flavor>> {
        name: "flavor",
        type: "`slim`, `minimal` or `minimal-debug`",
        targets: Replace,
        read: flavor,
        spec: defaulted,
        meaning: "what the image is built on. `slim` (default): `python:X-slim`, Debian with a shell, apt and pip, for images you extend or debug with `docker exec`. `minimal`: nothing but what the app needs — the interpreter, its standard library (without test suites, idlelib, tkinter, ensurepip, lib2to3, pydoc's help topics, and the extension modules only terminals and PEP 594's dead batteries use: readline, curses, nis, crypt, spwd, ossaudiodev, dbm.ndbm), the installed packages, the shared libraries all of those load (resolved as the dynamic loader does), the files of `runtime:` packages, CA certificates, `/etc/passwd` and `/etc/group` with the user, and a dpkg record (`/var/lib/dpkg/status.d/NAME`) for every Debian package a file came from, so scanners see them; no shell, apt, dpkg or pip. For production images you never shell into; tzdata only with `runtime: [tzdata]`; `build-commands` run before the minimal root is gathered. `minimal-debug` adds a busybox shell.",
        schema: json!({"enum": ["slim", "minimal", "minimal-debug"]}),
    }
    missing_libraries: Option<Spanned<MissingLibraries>> {
        name: "missing-libraries",
        type: "`install` or `error`",
        targets: Replace,
        read: missing_libraries,
        spec: defaulted,
        meaning: "what the build does with a shared library that a compiled file it installs (an extension module, a wheel's bundled library, a program) needs and the runtime image lacks — found by reading every such file as the dynamic loader would. `install` (default): the Debian package the compile stage found it in is installed, and a warning names the file, the library and the `runtime:` entry that says so explicitly. `error`: the build fails instead, so every library comes from the base image or `runtime:`. A library no Debian package provides fails the build either way.",
        schema: json!({"enum": ["install", "error"]}),
    }
    smoke_test: Option<SmokeTest> {
        name: "smoke-test",
        type: "`true`, `false` or `{skip}`",
        targets: Replace,
        read: smoke_test,
        spec: defaulted,
        meaning: "before the image is returned, every top-level module of every distribution pyslim installed and of the app is imported in it — as its user, with no network, leaving no layer — and `test:` runs; a failure fails the build naming the module, the error and, for a missing shared library, the package to add. `{skip: [redis_om]}` leaves out modules that need a service at import time; `false` turns it off.",
        schema: json!({"anyOf": [
            {"type": "boolean"},
            {"type": "object", "properties": sub_properties(SMOKE_TEST_KEYS), "additionalProperties": false}
        ]}),
    }
    test: Option<Spanned<Vec<String>>> {
        name: "test",
        type: "list (exec form)",
        targets: Replace,
        read: argv,
        spec: direct,
        meaning: "a command run by the smoke test in the finished image, after the imports, as the container would run it (`workdir`, `env:`, the image's user, no network): `[python, -m, myapp, --self-check]`. A non-zero exit fails the build. It leaves no layer.",
        schema: argv(),
    }
    args: Vec<Arg> {
        name: "args",
        type: "mapping",
        targets: No,
        read: declared_args,
        spec: direct,
        meaning: r#"build arguments and their defaults, `{PYTHON: "3.11", TOKEN: }` (no default: the build must pass it if it is used). `${NAME}` in any value is replaced; `--build-arg NAME=value` overrides; `$$` is a literal `$`. A default may use the arguments declared above it (`{A: x, B: "${A}-y"}`), as `ARG` does. An undeclared or unset `${X}`, or one a default uses before it is declared, is an error at its line."#,
        schema: json!({
            "type": "object",
            "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
            "additionalProperties": {"type": ["string", "number", "boolean", "null"]}
        }),
    }
    targets: Vec<(TargetInfo, Fields)> {
        name: "targets",
        type: "mapping",
        targets: No,
        read: targets,
        spec: derived,
        meaning: "named variants chosen with `docker buildx build --target NAME`. Each may set {target keys}: lists add to the default image's, mappings merge, single values replace.",
        schema: json!({
            "type": "object",
            "propertyNames": {"pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]*$"},
            "additionalProperties": {"anyOf": [
                {"type": "object", "properties": properties(At::Target), "additionalProperties": false},
                {"type": "null"}
            ]}
        }),
    }
}

/// The keys of `app:` written as a mapping.
pub const APP_KEYS: &[SubKey] = &[
    SubKey {
        name: "path",
        schema: || json!({"description": "The app's directory in the build context.", "type": "string"}),
    },
    SubKey {
        name: "as",
        schema: || json!({"description": "`package`: built to a wheel; `source`: copied as it is into the workdir.", "enum": ["package", "source"]}),
    },
];

/// The keys of `base:`.
pub const BASE_KEYS: &[SubKey] = &[
    SubKey {
        name: "compile",
        schema: || json!({"description": "The image that builds the wheels (default python:X).", "type": "string"}),
    },
    SubKey {
        name: "runtime",
        schema: || json!({"description": "The image the result is built on (default python:X-slim).", "type": "string"}),
    },
];

/// The keys of `index:`.
pub const INDEX_KEYS: &[SubKey] = &[
    SubKey {
        name: "url",
        schema: || {
            json!({
                "description": "The index that replaces PyPI (a PEP 503 simple index). No credentials in the URL: use `secret`.",
                "type": "string",
                "pattern": "^https?://[^@/]+(/.*)?$"
            })
        },
    },
    SubKey {
        name: "extra",
        schema: || described("More indexes to search.", strings()),
    },
    SubKey {
        name: "secret",
        schema: || {
            json!({
                "description": "Id of a BuildKit secret holding a netrc file with the index credentials (`--secret id=ID,src=$HOME/.netrc`).",
                "type": "string",
                "pattern": ID_PATTERN
            })
        },
    },
];

/// The keys of `ssh:` written as a mapping.
pub const SSH_KEYS: &[SubKey] = &[
    SubKey {
        name: "id",
        schema: || {
            json!({
                "description": "The agent's id as the build forwards it (`--ssh default`).",
                "type": "string",
                "pattern": ID_PATTERN
            })
        },
    },
    SubKey {
        name: "known-hosts",
        schema: || {
            described(
                "known_hosts lines (`ssh-keyscan HOST`) of the hosts git may reach; without them a host key is accepted on first use.",
                strings(),
            )
        },
    },
];

/// The keys of `smoke-test:` written as a mapping.
pub const SMOKE_TEST_KEYS: &[SubKey] = &[SubKey {
    name: "skip",
    schema: || {
        described(
            "Top-level modules not to import (those that need a service at import time).",
            strings(),
        )
    },
}];

/// The keys of `user:` written as a mapping.
pub const USER_KEYS: &[SubKey] = &[
    SubKey {
        name: "name",
        schema: || {
            json!({
                "description": "The user's name, and its group's (default `app`); `root` runs as root.",
                "type": "string",
                "pattern": "^(root|[a-z_][a-z0-9_-]{0,31})$"
            })
        },
    },
    SubKey {
        name: "uid",
        schema: || described("The user's id (default 10001; 0 only for root).", id()),
    },
    SubKey {
        name: "gid",
        schema: || {
            described(
                "The id of the user's primary group (default the uid); 0 puts the user in group root.",
                id(),
            )
        },
    },
];

/// The keys of a `build-commands:` item written as a mapping.
pub const BUILD_COMMAND_KEYS: &[SubKey] = &[
    SubKey {
        name: "run",
        schema: || json!({"description": "The command, as a list of arguments.", "type": "array", "items": {"type": "string"}, "minItems": 1}),
    },
    SubKey {
        name: "network",
        schema: || json!({"description": "Let the command reach the network (the build sandbox's).", "type": "boolean"}),
    },
    SubKey {
        name: "user",
        schema: || json!({"description": "`root` to run it as root rather than the image's user.", "enum": ["root"]}),
    },
];

/// The keys of a `writable:` item written as a mapping.
pub const WRITABLE_KEYS: &[SubKey] = &[
    SubKey {
        name: "path",
        schema: || json!({"description": "The directory, an absolute path.", "type": "string", "pattern": "^/"}),
    },
    SubKey {
        name: "volume",
        schema: || json!({"description": "Also declare it a VOLUME of the image.", "type": "boolean"}),
    },
];

/// A uid or gid, as a number or as text.
fn id() -> Value {
    json!({"anyOf": [
        {"type": "integer", "minimum": 0, "maximum": User::MAX_ID},
        {"type": "string", "pattern": "^[0-9]+$"}
    ]})
}

/// Secret and SSH agent ids, as `names::is_id` takes them.
const ID_PATTERN: &str = "^[A-Za-z0-9._-]+$";

/// One text value or a list of them.
fn strings() -> Value {
    json!({"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]})
}

/// A program and its arguments.
fn argv() -> Value {
    json!({"type": "array", "items": {"type": "string"}})
}

/// Names to single values.
fn mapping() -> Value {
    json!({"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}})
}

fn described(description: &str, mut schema: Value) -> Value {
    schema["description"] = description.into();
    schema
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;

    /// The readers of `base`, `index`, `ssh`, `user` and `writable` items match on these names:
    /// every one must be read.
    #[test]
    fn every_sub_key_is_read() {
        let spec = "python: \"3.11\"\nrequirements: r.txt\n\
            base: {compile: \"python:3.11\", runtime: \"python:3.11-slim\"}\n\
            index: {url: \"https://pypi.example.com/simple\", extra: \"https://x.example.com/simple\", secret: netrc}\n\
            ssh: {id: default, known-hosts: [\"github.com ssh-ed25519 AAAA\"]}\n\
            user: {name: web, uid: 20001, gid: 20002}\n\
            writable: [{path: /data, volume: true}]\n";
        let loaded = crate::load(SourceFile::new("pyslim.yaml", spec));
        assert!(loaded.is_ok(), "{}", loaded.expect_err("not loaded"));
        for (key, sub_keys) in [
            ("base", BASE_KEYS),
            ("index", INDEX_KEYS),
            ("ssh", SSH_KEYS),
            ("user", USER_KEYS),
            ("writable", WRITABLE_KEYS),
        ] {
            for sub_key in sub_keys {
                assert!(
                    spec.contains(&format!("{}: ", sub_key.name)),
                    "`{key}.{}` is not in this test's spec",
                    sub_key.name
                );
            }
        }
    }
}
