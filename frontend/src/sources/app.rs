//! The app: a project in the build context (pyproject.toml or setup.py), and what building it
//! needs.

use pyslim_spec::{ContextPath, Diagnostic, Spanned};

use super::pyproject;
use crate::context::Context;
use crate::gateway::GatewayError;

/// Checks that the app is a project, and reads what building it requires. A problem is added
/// to `problems` at the spec's `app:` line.
pub async fn build_requires(
    context: &mut Context<'_>,
    app: &Spanned<ContextPath>,
    problems: &mut Vec<Diagnostic>,
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
    let text = if context.stat(&view, &pyproject).await?.is_some() {
        Some(context.read_text(&view, &pyproject).await?)
    } else if context.stat(&view, &setup).await?.is_some() {
        None
    } else {
        problems.push(
            Diagnostic::new(app.span, format!("`{app}` has no pyproject.toml or setup.py in the build context"))
                .with_hint("point `app:` at the directory of your project (relative to the build context), or leave it out"),
        );
        return Ok(Vec::new());
    };
    match pyproject::build_requires(text.as_deref()) {
        Ok(requires) => Ok(requires),
        Err(why) => {
            problems.push(
                Diagnostic::new(app.span, format!("`{pyproject}` {why}")).with_hint(
                    "fix the project's pyproject.toml; pyslim reads its [build-system] table",
                ),
            );
            Ok(Vec::new())
        }
    }
}
