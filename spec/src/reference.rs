//! The spec reference table of README.md, from the key table the loader reads with; a test keeps
//! the committed copy fresh.

use std::fmt::Write as _;

use crate::validate::keys::{At, KEYS};

/// The lines around the generated table in README.md.
pub const BEGIN: &str = "<!-- spec-keys:begin: generated from spec/src/validate/keys.rs by `PYSLIM_UPDATE_SCHEMA=1 cargo test -p pyslim-spec --test schema` -->";
pub const END: &str = "<!-- spec-keys:end -->";

/// Every top-level key: its name, its type and what it means, as a Markdown table.
pub fn table() -> String {
    let mut table = String::from("| key | type | meaning |\n| --- | --- | --- |\n");
    for key in KEYS.iter().filter(|key| key.allowed_at(At::TopLevel)) {
        // A `|` would end the cell.
        let cell = |text: &str| text.replace('|', "\\|");
        let _ = writeln!(
            table,
            "| `{}` | {} | {} |",
            key.name,
            cell(key.type_name),
            cell(&key.meaning())
        );
    }
    table
}

/// `readme` with the text between the markers replaced by the table; `None` without markers.
pub fn update(readme: &str) -> Option<String> {
    let start = readme.find(BEGIN)? + BEGIN.len();
    let end = start + readme[start..].find(END)?;
    Some(format!(
        "{}\n\n{}\n{}",
        &readme[..start],
        table(),
        &readme[end..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_replaces_only_what_is_between_the_markers() {
        let readme = format!("# intro\n{BEGIN}\nold\n{END}\nafter\n");
        let updated = update(&readme).expect("markers");
        assert!(updated.starts_with(&format!("# intro\n{BEGIN}\n\n| key | type | meaning |\n")));
        assert!(updated.ends_with(&format!("|\n\n{END}\nafter\n")));
        assert_eq!(update(&updated).as_deref(), Some(updated.as_str()));
        assert_eq!(update("no markers"), None);
    }
}
