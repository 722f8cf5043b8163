//! The import guard: reads every `src/**/*.rs`, collects which top-level module names which
//! (`crate::x`, and `aforro::x` in `main.rs`), and fails on any edge that points up
//! [`crate::LAYERS`], the table beside the Layout section of `lib.rs`. A module may import its
//! own band and those below it only where the table allows: strictly lower bands, never a
//! sibling in the same band (siblings that need each other belong in one module).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::LAYERS;

/// One import: `from` names `to` in `file`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Edge {
    from: String,
    to: String,
    file: String,
}

/// The band of a top-level module (0 is the top); `None` for a module the table lacks.
fn band(layers: &[&[&str]], module: &str) -> Option<usize> {
    layers.iter().position(|band| band.contains(&module))
}

/// Every edge that breaks the table, and every module the table does not list.
fn violations(layers: &[&[&str]], edges: &[Edge]) -> Vec<String> {
    let mut found = BTreeSet::new();
    for edge in edges {
        if edge.from == edge.to {
            continue;
        }
        match (band(layers, &edge.from), band(layers, &edge.to)) {
            (Some(from), Some(to)) if to > from => {}
            (Some(_), Some(_)) => {
                found.insert(format!("{} imports {} upward or sideways ({})", edge.from, edge.to, edge.file));
            }
            (None, _) => {
                found.insert(format!("module {} is missing from LAYERS ({})", edge.from, edge.file));
            }
            (_, None) => {
                found.insert(format!("module {} is missing from LAYERS ({})", edge.to, edge.file));
            }
        }
    }
    found.into_iter().collect()
}

/// The top-level module a file under `src/` belongs to: `src/db/writer.rs` → `db`,
/// `src/metrics.rs` → `metrics`, `src/main.rs` → `main`.
fn owner(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).ok()?;
    let first = relative.components().next()?.as_os_str().to_str()?;
    Some(first.strip_suffix(".rs").unwrap_or(first).to_owned())
}

/// The modules `text` names through `prefix` (`crate::` or `aforro::`), outside comments.
fn named_modules(text: &str, prefix: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(at) = rest.find(prefix) {
            let preceded_by_ident =
                rest[..at].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':');
            let after = &rest[at + prefix.len()..];
            let name: String = after.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !preceded_by_ident && !name.is_empty() {
                names.insert(name);
            }
            rest = after;
        }
        // `use crate::{a, b}` names several at once.
        if let Some(at) = code.find(&format!("{prefix}{{")) {
            let group = &code[at + prefix.len() + 1..];
            for part in group.split([',', '}']) {
                let name: String = part.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if !name.is_empty() {
                    names.insert(name);
                }
            }
        }
    }
    names
}

fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            rust_files(&path, files)?;
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    Ok(())
}

fn edges_of_crate(src: &Path) -> std::io::Result<Vec<Edge>> {
    let mut files = Vec::new();
    rust_files(src, &mut files)?;
    let mut edges = Vec::new();
    for file in files {
        let Some(from) = owner(src, &file) else { continue };
        if from == "lib" || from == "layer_guard" {
            continue;
        }
        let text = std::fs::read_to_string(&file)?;
        let prefix = if from == "main" { "aforro::" } else { "crate::" };
        let display = file.strip_prefix(src).unwrap_or(&file).display().to_string();
        for to in named_modules(&text, prefix) {
            edges.push(Edge { from: from.clone(), to, file: display.clone() });
        }
    }
    Ok(edges)
}

#[test]
fn no_import_points_up_the_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let edges = edges_of_crate(&src).expect("src/ is readable");
    assert!(edges.iter().any(|edge| edge.from == "http" && edge.to == "app"), "the scan finds real edges");
    let broken = violations(LAYERS, &edges);
    assert!(broken.is_empty(), "imports against the layer table in lib.rs:\n{}", broken.join("\n"));
}

#[test]
fn an_upward_import_is_caught() {
    let edge = |from: &str, to: &str| Edge { from: from.into(), to: to.into(), file: format!("{from}/x.rs") };
    let layers: &[&[&str]] = &[&["http"], &["app"], &["search", "jobs"], &["db"], &["error"]];
    let fine = [edge("http", "app"), edge("app", "db"), edge("search", "db"), edge("db", "error"), edge("db", "db")];
    assert_eq!(violations(layers, &fine), Vec::<String>::new());

    let upward = [edge("db", "app")];
    assert_eq!(violations(layers, &upward), ["db imports app upward or sideways (db/x.rs)"]);
    let sideways = [edge("search", "jobs")];
    assert_eq!(violations(layers, &sideways), ["search imports jobs upward or sideways (search/x.rs)"]);
    let unlisted = [edge("db", "admin")];
    assert_eq!(violations(layers, &unlisted), ["module admin is missing from LAYERS (db/x.rs)"]);
}

#[test]
fn imports_are_read_from_code_not_comments() {
    let text = "use crate::db::writer;\nuse crate::{domain, error::Result};\n// crate::app is only mentioned\n\
                let x = crate::metrics::handle(); // and crate::http here\n";
    let names: Vec<String> = named_modules(text, "crate::").into_iter().collect();
    assert_eq!(names, ["db", "domain", "error", "metrics"]);
}
