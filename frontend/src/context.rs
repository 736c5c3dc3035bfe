//! The build context as the frontend reads it before planning: views of the client's local
//! source narrowed to the files wanted, and the `.dockerignore` patterns every view honours.

use std::collections::BTreeMap;

use bollard_buildkit_proto::fsutil::types::Stat;

use crate::gateway::{Gateway, GatewayError, SolvedRef};
use crate::llb::{self, State};

/// A local source of the client (`local://NAME`), narrowed by `attrs`.
pub fn local(name: &str, session_id: &str, attrs: &[(&str, String)]) -> State {
    let mut all = BTreeMap::from([
        ("local.session".to_string(), session_id.to_string()),
        ("local.sharedkeyhint".to_string(), name.to_string()),
    ]);
    all.extend(attrs.iter().map(|(k, v)| (k.to_string(), v.clone())));
    State::source(format!("local://{name}"), all, None)
}

pub fn json_list<S: serde::Serialize>(items: &[S]) -> String {
    serde_json::to_string(items).expect("a list of strings always serialises")
}

/// The build context as the frontend sees it: one client session, less the ignored files.
pub struct Context<'a> {
    pub gateway: &'a mut Gateway,
    pub name: &'a str,
    pub session_id: &'a str,
    pub excludes: &'a [String],
}

impl Context<'_> {
    /// `.dockerignore` patterns, so every view of the context leaves out the same files.
    pub async fn dockerignore(&mut self) -> Result<Vec<String>, GatewayError> {
        let view = self.view(&[".dockerignore".to_string()], false).await?;
        if self.stat(&view, ".dockerignore").await?.is_none() {
            return Ok(Vec::new());
        }
        let text = self.gateway.read_file(&view, ".dockerignore").await?;
        Ok(String::from_utf8_lossy(&text)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(String::from)
            .collect())
    }

    pub async fn stat(
        &mut self,
        view: &SolvedRef,
        path: &str,
    ) -> Result<Option<Stat>, GatewayError> {
        self.gateway.stat_file(view, path).await
    }

    pub async fn read_text(
        &mut self,
        view: &SolvedRef,
        path: &str,
    ) -> Result<String, GatewayError> {
        let bytes = self.gateway.read_file(view, path).await?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The context narrowed to `paths`: BuildKit transfers only those.
    pub async fn view(
        &mut self,
        paths: &[String],
        ignore: bool,
    ) -> Result<SolvedRef, GatewayError> {
        let mut attrs = vec![("local.includepattern", json_list(paths))];
        if ignore && !self.excludes.is_empty() {
            attrs.push(("local.excludepatterns", json_list(self.excludes)));
        }
        let state = local(self.name, self.session_id, &attrs);
        self.gateway.solve(llb::marshal(&state, None)).await
    }
}

pub fn is_dir(stat: &Stat) -> bool {
    const S_IFMT: u32 = 0o170000;
    const S_IFDIR: u32 = 0o040000;
    stat.mode & S_IFMT == S_IFDIR
}
