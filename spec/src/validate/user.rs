//! `user:` — who the container runs as: root, or a user pyslim creates with fixed ids, written
//! as a name (`app`), as `UID[:GID]` (`10001:10001`), or as `{name, uid, gid}`.
//!
//! Everything useradd or groupadd would refuse in the middle of a build is refused here, at its
//! line: a name or id the base image already has, an id of its system range.

use marked_yaml::Node;
use marked_yaml::types::MarkedMappingNode;

use super::keys::{USER_KEYS, sub_key_names};
use super::{Validator, names};
use crate::diagnostic::Diagnostic;
use crate::model::{Account, User};
use crate::source::{Span, Spanned};

/// A user id or a group id, for messages.
#[derive(Clone, Copy)]
enum Id {
    Uid,
    Gid,
}

impl Id {
    fn name(self) -> &'static str {
        match self {
            Id::Uid => "uid",
            Id::Gid => "gid",
        }
    }
}

impl Validator<'_> {
    pub(super) fn user(&mut self, node: &Node, key: &str) -> Option<Spanned<User>> {
        if let Node::Mapping(map) = node {
            let span = self.span(node);
            return self.user_mapping(map).map(|user| Spanned::new(user, span));
        }
        let text = self.text(node, key, "app")?;
        let span = text.span;
        let user = if *text == "root" {
            Some(User::Root)
        } else if text.chars().all(|c| c.is_ascii_digit() || c == ':') {
            self.user_ids(&text, span)
        } else if self.new_user_name(&text, span) {
            Some(created(&text, None, None))
        } else {
            None
        };
        user.map(|user| Spanned::new(user, span))
    }

    /// `UID` or `UID:GID`: the user `app` with these ids, or root for `0`.
    fn user_ids(&mut self, text: &str, span: Span) -> Option<User> {
        let (uid, gid) = match text.split_once(':') {
            Some((uid, gid)) => (uid, Some(gid)),
            None => (text, None),
        };
        if uid.is_empty() || gid.is_some_and(|gid| gid.is_empty() || gid.contains(':')) {
            self.report(
                Diagnostic::new(span, format!("`{text}` is not `UID` or `UID:GID`"))
                    .with_hint("write `user: 10001` or `user: 10001:10001`"),
            );
            return None;
        }
        let uid = self.id(uid, Id::Uid, span);
        let gid = gid.map(|gid| self.id(gid, Id::Gid, span));
        let (uid, gid) = (uid?, gid.unwrap_or(uid)?);
        if uid == 0 && gid != 0 {
            self.report(
                Diagnostic::new(span, format!("`{text}` is root with another group, which pyslim does not make"))
                    .with_hint(format!("write `user: root` (root's group is 0), or run as a user of your own in that group, like `user: {}:{gid}`", User::DEFAULT_ID)),
            );
            return None;
        }
        Some(if uid == 0 {
            User::Root
        } else {
            created(User::DEFAULT, Some(uid), Some(gid))
        })
    }

    /// `{name, uid, gid}`, each optional: the name defaults to `app`, the uid to 10001 and the
    /// gid to the uid.
    fn user_mapping(&mut self, map: &MarkedMappingNode) -> Option<User> {
        let before = self.problems.len();
        let (mut name, mut uid, mut gid) = (None, None, None);
        for (key, value) in map.iter() {
            let (slot, example) = match key.as_str() {
                "name" => (&mut name, "app"),
                "uid" => (&mut uid, "10001"),
                "gid" => (&mut gid, "10001"),
                _ => {
                    self.unknown_key(key, &sub_key_names(USER_KEYS), "a key of `user`");
                    continue;
                }
            };
            let value = self.present(key, value);
            *slot = value.and_then(|value| self.text(value, key.as_str(), example));
        }
        let mut id = |text: Option<Spanned<String>>, which| {
            text.and_then(|t| {
                self.id(&t, which, t.span)
                    .map(|id| Spanned::new(id, t.span))
            })
        };
        let (uid, gid) = (id(uid, Id::Uid), id(gid, Id::Gid));
        let root_name = name.as_ref().is_some_and(|n| **n == "root");
        if let Some(name) = name.as_ref().filter(|_| !root_name) {
            self.new_user_name(name, name.span);
        }
        if self.problems.len() > before {
            return None;
        }
        if !root_name && uid.as_ref().is_none_or(|uid| **uid != 0) {
            let name = name.as_ref().map_or(User::DEFAULT, |n| n.as_str());
            let uid = uid.map(|uid| uid.value);
            return Some(created(name, uid, gid.map(|gid| gid.value).or(uid)));
        }
        // Root, by name or by uid 0: every id given must be root's.
        match (&name, &uid) {
            (Some(name), Some(uid)) if **uid == 0 && !root_name => self.report(
                Diagnostic::new(uid.span, format!("uid 0 is root, so `{}` would be root under another name", **name))
                    .with_hint(format!("write `user: root` to run as root, or give `{}` a uid of 1000 or more, like {}", **name, User::DEFAULT_ID)),
            ),
            (_, Some(uid)) if **uid != 0 => self.report(
                Diagnostic::new(uid.span, format!("root's uid is 0, not {}", **uid))
                    .with_hint("leave `uid` out for root, or give the user a name of your own, like `app`"),
            ),
            _ => {}
        }
        if let Some(gid) = gid.filter(|gid| **gid != 0) {
            self.report(
                Diagnostic::new(gid.span, format!("root's group is 0, not {}", *gid))
                    .with_hint(format!("leave `gid` out for root, or run as a user of your own in that group, like `{{name: app, uid: {}, gid: {}}}`", User::DEFAULT_ID, *gid)),
            );
        }
        (self.problems.len() == before).then_some(User::Root)
    }

    /// A name pyslim can give a new user: one useradd takes, and one the base image does not
    /// have already as a user or as a group (the user's group gets its name).
    fn new_user_name(&mut self, name: &str, span: Span) -> bool {
        let problem = if !names::is_user_name(name) {
            Diagnostic::new(span, format!("`{name}` is not a user name pyslim can create"))
                .with_hint("use up to 32 lower-case letters, digits, `_` or `-`, starting with a letter (or `root`)")
        } else if names::SYSTEM_USERS.contains(&name) {
            Diagnostic::new(span, format!("`{name}` is a user the base image already has"))
                .with_hint("pyslim creates the user, so give it a name of its own, like `app` (the default); `user: root` runs as root")
        } else if names::SYSTEM_GROUPS.contains(&name) {
            Diagnostic::new(span, format!("`{name}` is a group the base image already has, and pyslim makes a group named like the user"))
                .with_hint("give the user a name of its own, like `app` (the default)")
        } else {
            return true;
        };
        self.report(problem);
        false
    }

    /// A uid or gid as written: 0 (root's, for the caller to judge), or one of the ids pyslim
    /// can create: 1000 to [`User::MAX_ID`], but not 65534 (`nobody` and `nogroup`).
    fn id(&mut self, text: &str, which: Id, span: Span) -> Option<u32> {
        let what = which.name();
        let problem = if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            Diagnostic::new(span, format!("`{text}` is not a {what}"))
                .with_hint(format!("a {what} is a number, like {}", User::DEFAULT_ID))
        } else {
            match text.parse::<u32>() {
                Ok(id) if id == 0 || (1000..=User::MAX_ID).contains(&id) && id != 65534 => {
                    return Some(id);
                }
                Ok(id @ 1..1000) => Diagnostic::new(
                    span,
                    format!("{what} {id} is in the base image's system range (1 to 999)"),
                )
                .with_hint(format!(
                    "use 1000 or more, like {} (the default): the base image's system accounts have the others; `root` is 0",
                    User::DEFAULT_ID
                )),
                Ok(65534) => {
                    let owner = match which {
                        Id::Uid => "`nobody`'s",
                        Id::Gid => "`nogroup`'s",
                    };
                    Diagnostic::new(span, format!("{what} 65534 is {owner}, which the base image has"))
                        .with_hint(format!("use an id of your own, like {} (the default)", User::DEFAULT_ID))
                }
                _ => Diagnostic::new(span, format!("{what} {text} is too large"))
                    .with_hint(format!("use 1000 to {}, like {} (the default)", User::MAX_ID, User::DEFAULT_ID)),
            }
        };
        self.report(problem);
        None
    }
}

/// The user pyslim creates, with the default ids where none is given.
fn created(name: &str, uid: Option<u32>, gid: Option<u32>) -> User {
    User::Created(Account {
        name: name.to_string(),
        uid: uid.unwrap_or(User::DEFAULT_ID),
        gid: gid.unwrap_or(User::DEFAULT_ID),
    })
}

#[cfg(test)]
mod tests {
    use crate::model::{Account, User};
    use crate::source::SourceFile;

    fn user(value: &str) -> Result<User, String> {
        let text = format!("python: \"3.11\"\napp: .\nuser: {value}\n");
        crate::load(SourceFile::new("pyslim.yaml", text))
            .map(|spec| spec.user.value)
            .map_err(|d| d.to_string())
    }

    fn account(name: &str, uid: u32, gid: u32) -> User {
        User::Created(Account {
            name: name.into(),
            uid,
            gid,
        })
    }

    #[test]
    fn every_form_gives_a_user_with_fixed_ids() {
        let cases = [
            ("app", account("app", 10001, 10001)),
            ("web", account("web", 10001, 10001)),
            ("10001", account("app", 10001, 10001)),
            ("\"20001:20002\"", account("app", 20001, 20002)),
            ("20001:0", account("app", 20001, 0)),
            (
                "{name: web, uid: 20001, gid: 20002}",
                account("web", 20001, 20002),
            ),
            ("{uid: 20001}", account("app", 20001, 20001)),
            ("{name: web, gid: 0}", account("web", 10001, 0)),
            ("{}", account("app", 10001, 10001)),
            ("root", User::Root),
            ("0", User::Root),
            ("\"0:0\"", User::Root),
            ("{name: root}", User::Root),
            ("{uid: 0}", User::Root),
            ("{name: root, uid: 0, gid: 0}", User::Root),
            ("2147483646", account("app", 2147483646, 2147483646)),
        ];
        for (written, expected) in cases {
            assert_eq!(user(written), Ok(expected), "user: {written}");
        }
        let spec = crate::load(SourceFile::new("pyslim.yaml", "python: \"3.11\"\napp: .\n"))
            .expect("valid");
        assert_eq!(spec.user.value, account("app", 10001, 10001));
        assert_eq!(spec.user.config(), "10001:10001");
        assert_eq!(spec.user.written(), None);
    }

    #[test]
    fn what_useradd_would_refuse_is_refused_at_its_line() {
        for (written, message) in [
            ("daemon", "`daemon` is a user the base image already has"),
            ("nobody", "`nobody` is a user the base image already has"),
            ("staff", "`staff` is a group the base image already has"),
            ("999", "uid 999 is in the base image's system range"),
            (
                "\"10001:100\"",
                "gid 100 is in the base image's system range",
            ),
            ("65534", "uid 65534 is `nobody`'s"),
            ("\"10001:65534\"", "gid 65534 is `nogroup`'s"),
            ("2147483647", "uid 2147483647 is too large"),
            ("99999999999999999999", "is too large"),
            ("\"0:10001\"", "is root with another group"),
            ("\"10001:\"", "is not `UID` or `UID:GID`"),
            ("\"1:2:3\"", "is not `UID` or `UID:GID`"),
            (
                "{name: web, uid: 0}",
                "uid 0 is root, so `web` would be root",
            ),
            ("{name: root, uid: 10001}", "root's uid is 0, not 10001"),
            ("{name: root, gid: 10001}", "root's group is 0, not 10001"),
            ("{uid: 10001x}", "`10001x` is not a uid"),
            ("{ud: 10001}", "did you mean `uid`?"),
            ("{name: Web}", "`Web` is not a user name"),
        ] {
            let error = user(written).expect_err(written);
            assert!(error.contains("pyslim.yaml:3:"), "user: {written}: {error}");
            assert!(error.contains(message), "user: {written}: {error}");
            assert!(error.contains("hint: "), "user: {written}: {error}");
        }
    }
}
