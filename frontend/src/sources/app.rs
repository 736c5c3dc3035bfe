//! The app: a project in the build context (pyproject.toml or setup.py), and what building it
//! needs.

use pyslim_spec::{ContextPath, Diagnostic, SourceFile, SourceKind, Spanned};

use super::{Problems, pyproject};
use crate::context::Context;
use crate::gateway::GatewayError;

/// Checks that the app is a project, and reads what building it requires. A missing project is
/// a problem at the spec's `app:` line; a wrong pyproject.toml, at its own line.
pub async fn build_requires(
    context: &mut Context<'_>,
    app: &Spanned<ContextPath>,
    problems: &mut Problems,
) -> Result<Vec<String>, GatewayError> {
    let path = |file: &str| {
        if app.as_str() == "." {
            file.to_string()
        } else {
            format!("{app}/{file}")
        }
    };
    let (pyproject, setup) = (path("pyproject.toml"), path("setup.py"));
    let view = context
        .view(&[pyproject.clone(), setup.clone()], true)
        .await?;
    let file = if context.stat(&view, &pyproject).await?.is_some() {
        let text = context.read_text(&view, &pyproject).await?;
        Some(SourceFile::of_kind(SourceKind::Pyproject, &pyproject, text))
    } else if context.stat(&view, &setup).await?.is_some() {
        None
    } else {
        problems.problems.push(
            Diagnostic::new(app.span, format!("`{app}` has no pyproject.toml or setup.py in the build context"))
                .with_hint("point `app:` at the directory of your project (relative to the build context), or leave it out"),
        );
        return Ok(Vec::new());
    };
    match pyproject::build_requires(file.as_ref().map(|f| f.text.as_str())) {
        Ok(requires) => Ok(requires),
        Err(error) => {
            if let Some(file) = &file {
                pyproject::report(
                    &error,
                    file,
                    app.span,
                    "fix the project's pyproject.toml; pyslim reads its [build-system] table",
                    problems,
                );
            }
            Ok(Vec::new())
        }
    }
}
