//! The architecture guard: every file of `src/` parsed with `syn`, every reference to a crate
//! item resolved to the file that defines it, and two rules over that file graph: no import
//! circle between files anywhere in `src/`, and no edge up or sideways in [`aforro::LAYERS`].
//!
//! What it reads, so a newcomer knows what passes and why:
//! - The module tree is walked from `lib.rs` (the library) and `main.rs` (the binary, whose
//!   module is `main` and whose `aforro::…` paths name the library) through every `mod x;`,
//!   with rustc's file rules: `x.rs` or `x/mod.rs`, non-`mod.rs` files own the folder named
//!   after them (`search/browse.rs` owns `search/browse/`), inline `mod x { … }` blocks belong
//!   to their file, and `#[path = "…"]` is followed. A `.rs` file under `src/` that no `mod`
//!   reaches is reported, since the guard could not place it.
//! - A reference is any `use` leaf (multi-line and nested groups, `self`, globs, renames) and any
//!   path of two or more segments in code, types, patterns, attributes and macro bodies (read
//!   token by token, so `format!("{}", crate::x::Y)` counts and text inside string literals or
//!   comments never does). Paths starting with `crate::`, `super::` (any depth), `self::`,
//!   `$crate::`, a child module, or a name a `use` of the same module bound (`use crate::db;` then
//!   `db::orders::place(…)`) are resolved; the rest are other crates, locals or the prelude.
//! - A resolved path names the longest module prefix that exists; when the next segment is a
//!   name that module only re-exports (`pub use writer::WriterHandle;` in `db/mod.rs`), the
//!   re-export is followed to the file that defines the item: `crate::db::WriterHandle` is an
//!   edge to `db/writer.rs`, not to `db/mod.rs`. The re-export itself is an edge from the file
//!   that writes it. A `mod x;` declaration is not a reference.
//! - A folder's face (its `mod.rs`, or `browse.rs` for `browse/`) and the files inside that
//!   folder may name each other: the face composes its children, and they share its
//!   definitions (`super::SearchIndex`). So a circle is reported when it still closes with every
//!   face-to-inner-file edge left out, or with every inner-file-to-face edge left out: two
//!   siblings naming each other fail, and so does face → child → outsider → face, while a face
//!   and its own child alone do not.
//! - Test code is left out: an item under `#[cfg(test)]` (a `mod tests` block, a `mod x;`
//!   declaration, a test-only method or `use`) adds no edge, since tests may reach anywhere.
//!   `lib.rs` takes part in circles but not in the band check: it is the table's home.
//!
//! The analysis is `analyse`, a function over a directory: `the_source_tree_keeps_its_architecture`
//! runs it on this crate's `src/`, and each planted test on a scratch copy with one violation
//! (or one legal spelling) written in: the spellings a line-based guard missed or misread.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{Attribute, ImplItem, Item, ItemMod, ItemUse, Meta, TraitItem, UseTree};

/// How deep alias chains (`use a as b`, re-exports of re-exports) are followed: far past any real
/// chain, and a bound on a cycle of aliases.
const MAX_ALIAS_DEPTH: usize = 16;

/// Why the source tree could not be analysed (as opposed to analysed and found wanting).
#[derive(Debug, thiserror::Error)]
enum GuardError {
    #[error("{file}: {source}")]
    Read { file: String, source: std::io::Error },
    #[error("{file}:{line}: not Rust the guard can parse: {message}")]
    Parse { file: String, line: usize, message: String },
    #[error("{file}:{line}: `mod {name};` has no file ({expected})")]
    MissingModule { file: String, line: usize, name: String, expected: String },
}

/// A path as written, before resolution: `super::super::db::Writer`, `crate::x`, `writer::run`.
#[derive(Debug, Clone)]
struct RawPath {
    leading_colon: bool,
    segments: Vec<String>,
}

/// A name a `use` brings into its module's scope, or a glob (`name` is `None`).
#[derive(Debug)]
struct UseBinding {
    name: Option<String>,
    path: RawPath,
}

/// Where a reference is written: a file (index into `Tree::files`) and a 1-based line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Site {
    file: usize,
    line: usize,
}

/// One module: a file's own module, or an inline `mod x { … }` inside it.
#[derive(Debug)]
struct Module {
    /// From the crate root: `["db", "writer"]`; the binary's root is `["main"]`.
    path: Vec<String>,
    /// How many leading segments of `path` are the crate root: 0 for the library, 1 for `main`.
    crate_root: usize,
    file: usize,
    /// False under `#[cfg(test)]`: its references are not edges.
    counted: bool,
    /// Names of the items defined here (not imported), for glob lookups.
    items: BTreeSet<String>,
    uses: Vec<UseBinding>,
    references: Vec<(RawPath, Site)>,
}

/// A parsed file: its path as shown in reports (`src/db/writer.rs`) and its own module.
#[derive(Debug)]
struct SourceFile {
    shown: String,
    module: usize,
}

/// Every file and module reached from the crate roots.
#[derive(Debug, Default)]
struct Tree {
    files: Vec<SourceFile>,
    modules: Vec<Module>,
    by_path: BTreeMap<Vec<String>, usize>,
}

/// A file the walk still has to read: where it is and which module it is.
struct Pending {
    file: PathBuf,
    path: Vec<String>,
    crate_root: usize,
    counted: bool,
    /// `lib.rs`, `main.rs`, `mod.rs` or a `#[path]` file: its `mod x;` look beside it, not in a
    /// folder named after it.
    mod_rs: bool,
}

/// The file graph and what is wrong with it.
#[derive(Debug)]
struct Report {
    /// `from -> to` module names (one per file) and every site naming `to` from `from`.
    edges: BTreeMap<(String, String), Vec<String>>,
    /// Each circle of files (see the module doc for the face rule): its modules, then every
    /// edge between them with its first site.
    circles: Vec<(Vec<String>, Vec<String>)>,
    /// Edges against `LAYERS`, and top-level modules missing from it (or listed but absent).
    against_layers: Vec<String>,
    /// `.rs` files under `src/` that no `mod` reaches.
    strays: Vec<String>,
}

impl Report {
    /// Every failure, one line each (circles as one line per component).
    fn failures(&self) -> Vec<String> {
        let circles = self.circles.iter().map(|(modules, _)| format!("circle: {}", modules.join(", ")));
        circles.chain(self.against_layers.iter().cloned()).chain(self.strays.iter().cloned()).collect()
    }

    fn is_clean(&self) -> bool {
        self.failures().is_empty()
    }

    /// Whether `from` names `to` at `site` (`src/db/x.rs:12`).
    fn has_edge(&self, from: &str, to: &str, site: &str) -> bool {
        self.edges.get(&(from.to_owned(), to.to_owned())).is_some_and(|sites| sites.iter().any(|s| s == site))
    }

    fn render(&self) -> String {
        let mut out = String::new();
        if !self.circles.is_empty() {
            let _ = writeln!(out, "import circles between files ({}); each must be broken:", self.circles.len());
            for (modules, edges) in &self.circles {
                let _ = writeln!(out, "  {} files: {}", modules.len(), modules.join(", "));
                for edge in edges {
                    let _ = writeln!(out, "    {edge}");
                }
            }
        }
        if !self.against_layers.is_empty() {
            let _ = writeln!(out, "against aforro::LAYERS (a module imports only from bands below its own):");
            for line in &self.against_layers {
                let _ = writeln!(out, "  {line}");
            }
        }
        if !self.strays.is_empty() {
            let _ = writeln!(out, "files outside the module tree:");
            for line in &self.strays {
                let _ = writeln!(out, "  {line}");
            }
        }
        out
    }
}

/// Reads the crate whose sources are in `src` and checks it against `layers`.
fn analyse(src: &Path, layers: &[&[&str]]) -> Result<Report, GuardError> {
    let tree = Tree::read(src)?;
    let edges = tree.edges();
    let module_name = |file: usize| tree.module_name(tree.files[file].module);
    let shown = |site: Site| format!("{}:{}", tree.files[site.file].shown, site.line);

    let mut all_edges: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (&(from, to), sites) in &edges {
        all_edges.insert((module_name(from), module_name(to)), sites.iter().map(|&site| shown(site)).collect());
    }
    let example = |from: usize, to: usize| {
        let site = edges[&(from, to)][0];
        format!("{} -> {}  {}", module_name(from), module_name(to), shown(site))
    };

    // A circle made only by a folder's face and its own files is the idiom (the face composes
    // its children, the children share its definitions); any circle that still closes with
    // every face-to-descendant edge left out, or with every descendant-to-face edge left out,
    // is reported. Components found either way are merged where they share a file.
    let below = |upper: usize, lower: usize| tree.is_descendant(tree.files[lower].module, tree.files[upper].module);
    let downward = edges.keys().copied().filter(|&(from, to)| !below(from, to));
    let upward = edges.keys().copied().filter(|&(from, to)| !below(to, from));
    let components = strongly_connected(tree.files.len(), downward)
        .into_iter()
        .chain(strongly_connected(tree.files.len(), upward))
        .filter(|component| component.len() > 1);
    let mut circles: Vec<(Vec<String>, Vec<String>)> = merge_overlapping(components)
        .into_iter()
        .map(|members| {
            let mut modules: Vec<String> = members.iter().map(|&file| module_name(file)).collect();
            modules.sort();
            let inner = edges.keys().filter(|(from, to)| members.contains(from) && members.contains(to));
            let mut lines: Vec<String> = inner
                .map(|&(from, to)| match (below(from, to), below(to, from)) {
                    (true, _) => format!("{} (face to a file inside it)", example(from, to)),
                    (_, true) => format!("{} (file to a face above it)", example(from, to)),
                    _ => example(from, to),
                })
                .collect();
            lines.sort();
            (modules, lines)
        })
        .collect();
    circles.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));

    let band = |top: &str| layers.iter().position(|band| band.contains(&top));
    let mut against_layers = BTreeSet::new();
    for &(from, to) in edges.keys() {
        let (Some(from_top), Some(to_top)) = (tree.top_level(from), tree.top_level(to)) else { continue };
        if from_top == to_top {
            continue;
        }
        match (band(from_top), band(to_top)) {
            (Some(a), Some(b)) if b > a => {}
            (Some(a), Some(b)) => {
                let way = if a == b { "sideways" } else { "up" };
                against_layers
                    .insert(format!("{} ({way}: {from_top} is in band {a}, {to_top} in {b})", example(from, to)));
            }
            _ => {}
        }
    }
    let tops: BTreeSet<&str> = tree
        .modules
        .iter()
        .filter(|m| m.counted && m.path.len() == m.crate_root + 1)
        .map(|m| m.path[0].as_str())
        .collect();
    let tops = tops.into_iter().chain(tree.by_path.contains_key(&["main".to_owned()][..]).then_some("main"));
    for top in tops {
        if band(top).is_none() {
            against_layers.insert(format!("top-level module `{top}` is missing from LAYERS"));
        }
    }
    for &name in layers.iter().flat_map(|band| band.iter()) {
        if !tree.by_path.contains_key(&[name.to_owned()][..]) {
            against_layers.insert(format!("LAYERS names `{name}`, which is not a top-level module"));
        }
    }

    let strays = tree.strays(src)?;
    Ok(Report { edges: all_edges, circles, against_layers: against_layers.into_iter().collect(), strays })
}

impl Tree {
    fn read(src: &Path) -> Result<Self, GuardError> {
        let mut tree = Self::default();
        let mut queue =
            vec![Pending { file: src.join("lib.rs"), path: Vec::new(), crate_root: 0, counted: true, mod_rs: true }];
        if src.join("main.rs").is_file() {
            queue.push(Pending {
                file: src.join("main.rs"),
                path: vec!["main".to_owned()],
                crate_root: 1,
                counted: true,
                mod_rs: true,
            });
        }
        let root = src.parent().unwrap_or(src);
        while let Some(pending) = queue.pop() {
            tree.load(root, pending, &mut queue)?;
        }
        Ok(tree)
    }

    fn load(&mut self, root: &Path, pending: Pending, queue: &mut Vec<Pending>) -> Result<(), GuardError> {
        let shown = pending.file.strip_prefix(root).unwrap_or(&pending.file).display().to_string();
        let text =
            fs::read_to_string(&pending.file).map_err(|source| GuardError::Read { file: shown.clone(), source })?;
        let parsed = syn::parse_file(&text).map_err(|error| GuardError::Parse {
            file: shown.clone(),
            line: error.span().start().line,
            message: error.to_string(),
        })?;
        let file = self.files.len();
        let module = self.add_module(pending.path, pending.crate_root, file, pending.counted);
        self.files.push(SourceFile { shown, module });

        let file_dir = pending.file.parent().map(Path::to_path_buf).unwrap_or_default();
        let dir = if pending.mod_rs {
            file_dir.clone()
        } else {
            let stem = pending.file.file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_default();
            file_dir.join(stem)
        };
        let mut collector = Collector { tree: self, file, module, dir, file_dir, inline_depth: 0, queue, error: None };
        collector.visit_file(&parsed);
        collector.error.map_or(Ok(()), Err)
    }

    fn add_module(&mut self, path: Vec<String>, crate_root: usize, file: usize, counted: bool) -> usize {
        let index = self.modules.len();
        self.by_path.insert(path.clone(), index);
        self.modules.push(Module {
            path,
            crate_root,
            file,
            counted,
            items: BTreeSet::new(),
            uses: Vec::new(),
            references: Vec::new(),
        });
        index
    }

    fn module_name(&self, module: usize) -> String {
        let path = &self.modules[module].path;
        if path.is_empty() { "crate".to_owned() } else { path.join("::") }
    }

    /// Whether `lower` sits inside `upper` (`search::browse::titles` inside `search`).
    fn is_descendant(&self, lower: usize, upper: usize) -> bool {
        let (lower, upper) = (&self.modules[lower], &self.modules[upper]);
        lower.crate_root == upper.crate_root
            && lower.path.len() > upper.path.len()
            && lower.path.starts_with(&upper.path)
    }

    /// The top-level module a file belongs to (`main` for the binary), `None` for `lib.rs`.
    fn top_level(&self, file: usize) -> Option<&str> {
        self.modules[self.files[file].module].path.first().map(String::as_str)
    }

    /// `raw`, written in `module`, as a path from the library root (or `main`'s), if it names
    /// something in this crate. `globs` says whether a name may come through a glob `use`: not
    /// while resolving a glob's own path, so unknown names cost one pass over the globs rather
    /// than a search through globs of globs.
    fn absolute(&self, module: usize, raw: &RawPath, depth: usize, globs: bool) -> Option<Vec<String>> {
        let m = &self.modules[module];
        let segments = &raw.segments;
        let first = segments.first()?.as_str();
        let in_binary = m.crate_root == 1;
        let joined = |base: &[String], rest: &[String]| base.iter().chain(rest).cloned().collect::<Vec<_>>();
        if raw.leading_colon {
            return (in_binary && first == "aforro").then(|| segments[1..].to_vec());
        }
        match first {
            "crate" | "$crate" => Some(joined(&m.path[..m.crate_root], &segments[1..])),
            "self" | "super" => {
                let mut base = m.path.clone();
                let mut rest = &segments[usize::from(first == "self")..];
                while rest.first().is_some_and(|segment| segment == "super") {
                    if base.len() <= m.crate_root {
                        return None;
                    }
                    base.pop();
                    rest = &rest[1..];
                }
                Some(joined(&base, rest))
            }
            "aforro" if in_binary => Some(segments[1..].to_vec()),
            _ if depth >= MAX_ALIAS_DEPTH => None,
            _ => {
                let child = joined(&m.path, &segments[..1]);
                if self.by_path.contains_key(&child) {
                    return Some(joined(&m.path, segments));
                }
                if let Some(binding) = m.uses.iter().find(|binding| binding.name.as_deref() == Some(first)) {
                    let target = self.absolute(module, &binding.path, depth + 1, globs)?;
                    return Some(joined(&target, &segments[1..]));
                }
                if !globs {
                    return None;
                }
                self.through_globs(module, first, depth).map(|target| joined(&target, segments))
            }
        }
    }

    /// The module a glob `use` of `module` brings `name` from, if any does.
    fn through_globs(&self, module: usize, name: &str, depth: usize) -> Option<Vec<String>> {
        let globs = self.modules[module].uses.iter().filter(|binding| binding.name.is_none());
        globs.filter_map(|glob| self.absolute(module, &glob.path, depth + 1, false)).find(|target| {
            self.by_path.get(target).is_some_and(|&source| {
                let source = &self.modules[source];
                let mut child = target.clone();
                child.push(name.to_owned());
                source.items.contains(name)
                    || source.uses.iter().any(|binding| binding.name.as_deref() == Some(name))
                    || self.by_path.contains_key(&child)
            })
        })
    }

    /// The module that defines what `path` (from the root) names: the longest module prefix,
    /// followed through a re-export when the next segment is one.
    fn locate(&self, path: &[String], depth: usize) -> Option<usize> {
        let (length, module) = (0..=path.len()).rev().find_map(|n| self.by_path.get(&path[..n]).map(|&m| (n, m)))?;
        let Some(name) = path.get(length) else { return Some(module) };
        if depth >= MAX_ALIAS_DEPTH || self.modules[module].items.contains(name) {
            return Some(module);
        }
        let binding = self.modules[module].uses.iter().find(|binding| binding.name.as_deref() == Some(name.as_str()));
        let target = match binding {
            Some(binding) => self.absolute(module, &binding.path, depth + 1, true),
            None => self.through_globs(module, name, depth).map(|mut target| {
                target.push(name.clone());
                target
            }),
        };
        let Some(mut target) = target else { return Some(module) };
        target.extend_from_slice(&path[length + 1..]);
        self.locate(&target, depth + 1).or(Some(module))
    }

    /// Every file-to-file edge, with the sites that make it, in source order.
    fn edges(&self) -> BTreeMap<(usize, usize), Vec<Site>> {
        let mut edges: BTreeMap<(usize, usize), Vec<Site>> = BTreeMap::new();
        for (index, module) in self.modules.iter().enumerate().filter(|(_, module)| module.counted) {
            for (raw, site) in &module.references {
                let Some(path) = self.absolute(index, raw, 0, true) else { continue };
                let Some(target) = self.locate(&path, 0) else { continue };
                let to = self.modules[target].file;
                if to != site.file {
                    edges.entry((site.file, to)).or_default().push(*site);
                }
            }
        }
        for sites in edges.values_mut() {
            sites.sort();
            sites.dedup();
        }
        edges
    }

    /// The `.rs` files under `src` that no `mod` declaration reaches.
    fn strays(&self, src: &Path) -> Result<Vec<String>, GuardError> {
        let root = src.parent().unwrap_or(src);
        let known: BTreeSet<&str> = self.files.iter().map(|file| file.shown.as_str()).collect();
        let mut found = Vec::new();
        rust_files(src, &mut found)?;
        let mut strays: Vec<String> = found
            .iter()
            .map(|file| file.strip_prefix(root).unwrap_or(file).display().to_string())
            .filter(|shown| !known.contains(shown.as_str()))
            .map(|shown| format!("{shown} is declared by no `mod`, so the guard cannot place it"))
            .collect();
        strays.sort();
        Ok(strays)
    }
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), GuardError> {
    let read_error = |source| GuardError::Read { file: dir.display().to_string(), source };
    for entry in fs::read_dir(dir).map_err(read_error)? {
        let path = entry.map_err(read_error)?.path();
        if path.is_dir() {
            rust_files(&path, found)?;
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            found.push(path);
        }
    }
    Ok(())
}

/// `sets` with every two that share a member joined, until none do.
fn merge_overlapping(sets: impl Iterator<Item = Vec<usize>>) -> Vec<BTreeSet<usize>> {
    let mut merged: Vec<BTreeSet<usize>> = Vec::new();
    for set in sets {
        let mut set: BTreeSet<usize> = set.into_iter().collect();
        merged.retain(|other| {
            if other.is_disjoint(&set) {
                return true;
            }
            set.extend(other);
            false
        });
        merged.push(set);
    }
    merged
}

/// Tarjan's algorithm: the strongly connected components of a graph on `0..nodes`.
fn strongly_connected(nodes: usize, edges: impl Iterator<Item = (usize, usize)>) -> Vec<Vec<usize>> {
    struct State {
        next: Vec<Vec<usize>>,
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        counter: usize,
        components: Vec<Vec<usize>>,
    }
    fn connect(state: &mut State, node: usize) {
        state.index[node] = Some(state.counter);
        state.low[node] = state.counter;
        state.counter += 1;
        state.stack.push(node);
        state.on_stack[node] = true;
        for next in state.next[node].clone() {
            match state.index[next] {
                None => {
                    connect(state, next);
                    state.low[node] = state.low[node].min(state.low[next]);
                }
                Some(index) if state.on_stack[next] => state.low[node] = state.low[node].min(index),
                Some(_) => {}
            }
        }
        if Some(state.low[node]) == state.index[node] {
            let mut component = Vec::new();
            while let Some(member) = state.stack.pop() {
                state.on_stack[member] = false;
                component.push(member);
                if member == node {
                    break;
                }
            }
            state.components.push(component);
        }
    }
    let mut state = State {
        next: vec![Vec::new(); nodes],
        index: vec![None; nodes],
        low: vec![0; nodes],
        on_stack: vec![false; nodes],
        stack: Vec::new(),
        counter: 0,
        components: Vec::new(),
    };
    for (from, to) in edges {
        state.next[from].push(to);
    }
    for node in 0..nodes {
        if state.index[node].is_none() {
            connect(&mut state, node);
        }
    }
    state.components
}

/// Walks one file's syntax tree, recording modules, `use` bindings, item names and references.
struct Collector<'t> {
    tree: &'t mut Tree,
    file: usize,
    module: usize,
    /// Where `mod x;` looks for `x.rs` and `x/mod.rs` (inline modules add their names).
    dir: PathBuf,
    /// The file's own folder: where `#[path]` outside inline modules is relative to.
    file_dir: PathBuf,
    inline_depth: usize,
    queue: &'t mut Vec<Pending>,
    error: Option<GuardError>,
}

impl Collector<'_> {
    fn counted(&self) -> bool {
        self.tree.modules[self.module].counted
    }

    fn site(&self, span: Span) -> Site {
        Site { file: self.file, line: span.start().line }
    }

    fn reference(&mut self, raw: RawPath, span: Span) {
        if self.counted() && !raw.segments.is_empty() {
            let site = self.site(span);
            self.tree.modules[self.module].references.push((raw, site));
        }
    }

    /// Collects the paths in a macro's tokens: `ident (:: ident)+`, `crate::…`, `$crate::…`.
    fn scan_tokens(&mut self, tokens: TokenStream) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let is_colon =
            |tree: Option<&TokenTree>| matches!(tree, Some(TokenTree::Punct(punct)) if punct.as_char() == ':');
        let colon2_at = |at: usize| is_colon(trees.get(at)) && is_colon(trees.get(at + 1));
        let mut at = 0;
        while at < trees.len() {
            match &trees[at] {
                TokenTree::Group(group) => {
                    self.scan_tokens(group.stream());
                    at += 1;
                }
                TokenTree::Ident(first) => {
                    let after_colons = at >= 1 && is_colon(trees.get(at - 1));
                    let leading_colon = after_colons
                        && at >= 2
                        && is_colon(trees.get(at - 2))
                        && !matches!(trees.get(at.wrapping_sub(3)), Some(TokenTree::Ident(_) | TokenTree::Group(_)));
                    let dollar = at >= 1 && matches!(&trees[at - 1], TokenTree::Punct(punct) if punct.as_char() == '$');
                    let mut segments =
                        vec![if dollar { format!("${}", first.unraw()) } else { first.unraw().to_string() }];
                    let mut next = at + 1;
                    while colon2_at(next) {
                        let Some(TokenTree::Ident(segment)) = trees.get(next + 2) else { break };
                        segments.push(segment.unraw().to_string());
                        next += 3;
                    }
                    if segments.len() > 1 && (!after_colons || leading_colon) {
                        self.reference(RawPath { leading_colon, segments }, first.span());
                    }
                    at = next;
                }
                TokenTree::Punct(_) | TokenTree::Literal(_) => at += 1,
            }
        }
    }

    /// Each leaf of a `use` tree: the path it names, the name it binds, where it is written.
    fn use_leaves(tree: &UseTree, prefix: &mut Vec<String>, leaves: &mut Vec<(Vec<String>, Option<String>, Span)>) {
        match tree {
            UseTree::Path(path) => {
                prefix.push(path.ident.unraw().to_string());
                Self::use_leaves(&path.tree, prefix, leaves);
                prefix.pop();
            }
            UseTree::Name(name) if name.ident == "self" => {
                leaves.push((prefix.clone(), prefix.last().cloned(), name.ident.span()));
            }
            UseTree::Name(name) => {
                let ident = name.ident.unraw().to_string();
                let mut path = prefix.clone();
                path.push(ident.clone());
                leaves.push((path, Some(ident), name.ident.span()));
            }
            UseTree::Rename(rename) => {
                let mut path = prefix.clone();
                if rename.ident != "self" {
                    path.push(rename.ident.unraw().to_string());
                }
                let alias = rename.rename.unraw().to_string();
                leaves.push((path, (alias != "_").then_some(alias), rename.rename.span()));
            }
            // A glob binds many names; `None` marks it for glob lookups.
            UseTree::Glob(glob) => leaves.push((prefix.clone(), None, glob.span())),
            UseTree::Group(group) => {
                for tree in &group.items {
                    Self::use_leaves(tree, prefix, leaves);
                }
            }
        }
    }

    fn declared_module(&mut self, item: &ItemMod, counted: bool) {
        let name = item.ident.unraw().to_string();
        let mut path = self.tree.modules[self.module].path.clone();
        path.push(name.clone());
        let crate_root = self.tree.modules[self.module].crate_root;
        let line = item.ident.span().start().line;
        let missing = |expected: String| GuardError::MissingModule {
            file: self.tree.files.get(self.file).map_or_else(String::new, |file| file.shown.clone()),
            line,
            name: name.clone(),
            expected,
        };
        let (file, mod_rs) = if let Some(relative) = path_attribute(&item.attrs) {
            let base = if self.inline_depth == 0 { &self.file_dir } else { &self.dir };
            (base.join(relative), true)
        } else if self.dir.join(format!("{name}.rs")).is_file() {
            (self.dir.join(format!("{name}.rs")), false)
        } else {
            (self.dir.join(&name).join("mod.rs"), true)
        };
        if !file.is_file() {
            self.error.get_or_insert(missing(file.display().to_string()));
            return;
        }
        self.queue.push(Pending { file, path, crate_root, counted, mod_rs });
    }
}

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_item(&mut self, item: &'ast Item) {
        if let Item::Mod(module) = item {
            return self.visit_item_mod(module);
        }
        if is_cfg_test(item_attrs(item)) {
            return;
        }
        if let Some(name) = item_name(item) {
            self.tree.modules[self.module].items.insert(name);
        }
        visit::visit_item(self, item);
    }

    fn visit_item_mod(&mut self, item: &'ast ItemMod) {
        let counted = self.counted() && !is_cfg_test(&item.attrs);
        let Some((_, items)) = &item.content else { return self.declared_module(item, counted) };
        let name = item.ident.unraw().to_string();
        let mut path = self.tree.modules[self.module].path.clone();
        path.push(name.clone());
        let crate_root = self.tree.modules[self.module].crate_root;
        let inner = self.tree.add_module(path, crate_root, self.file, counted);
        let outer = std::mem::replace(&mut self.module, inner);
        let outer_dir = self.dir.clone();
        self.dir = match path_attribute(&item.attrs) {
            Some(relative) => self.dir.join(relative),
            None => self.dir.join(&name),
        };
        self.inline_depth += 1;
        for item in items {
            self.visit_item(item);
        }
        self.inline_depth -= 1;
        self.dir = outer_dir;
        self.module = outer;
    }

    fn visit_item_use(&mut self, item: &'ast ItemUse) {
        if !self.counted() || is_cfg_test(&item.attrs) {
            return;
        }
        let mut leaves = Vec::new();
        Self::use_leaves(&item.tree, &mut Vec::new(), &mut leaves);
        for (segments, name, span) in leaves {
            let raw = RawPath { leading_colon: item.leading_colon.is_some(), segments };
            self.tree.modules[self.module].uses.push(UseBinding { name, path: raw.clone() });
            self.reference(raw, span);
        }
    }

    fn visit_impl_item(&mut self, item: &'ast ImplItem) {
        let attrs = match item {
            ImplItem::Const(item) => &item.attrs,
            ImplItem::Fn(item) => &item.attrs,
            ImplItem::Type(item) => &item.attrs,
            ImplItem::Macro(item) => &item.attrs,
            _ => return visit::visit_impl_item(self, item),
        };
        if !is_cfg_test(attrs) {
            visit::visit_impl_item(self, item);
        }
    }

    fn visit_trait_item(&mut self, item: &'ast TraitItem) {
        let attrs = match item {
            TraitItem::Const(item) => &item.attrs,
            TraitItem::Fn(item) => &item.attrs,
            TraitItem::Type(item) => &item.attrs,
            TraitItem::Macro(item) => &item.attrs,
            _ => return visit::visit_trait_item(self, item),
        };
        if !is_cfg_test(attrs) {
            visit::visit_trait_item(self, item);
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.segments.len() > 1 {
            let segments = path.segments.iter().map(|segment| segment.ident.unraw().to_string()).collect();
            let span = path.segments.first().map_or_else(|| path.span(), |segment| segment.ident.span());
            self.reference(RawPath { leading_colon: path.leading_colon.is_some(), segments }, span);
        }
        visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        visit::visit_macro(self, mac);
        self.scan_tokens(mac.tokens.clone());
    }
}

/// Whether `attrs` hold `#[cfg(test)]`.
fn is_cfg_test(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|attr| match &attr.meta {
        Meta::List(list) => list.path.is_ident("cfg") && list.tokens.to_string() == "test",
        _ => false,
    })
}

/// The file a `#[path = "…"]` attribute names.
fn path_attribute(attrs: &[Attribute]) -> Option<String> {
    attrs.iter().find_map(|attr| match &attr.meta {
        Meta::NameValue(pair) if pair.path.is_ident("path") => match &pair.value {
            syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(text), .. }) => Some(text.value()),
            _ => None,
        },
        _ => None,
    })
}

fn item_attrs(item: &Item) -> &[Attribute] {
    match item {
        Item::Const(item) => &item.attrs,
        Item::Enum(item) => &item.attrs,
        Item::ExternCrate(item) => &item.attrs,
        Item::Fn(item) => &item.attrs,
        Item::ForeignMod(item) => &item.attrs,
        Item::Impl(item) => &item.attrs,
        Item::Macro(item) => &item.attrs,
        Item::Mod(item) => &item.attrs,
        Item::Static(item) => &item.attrs,
        Item::Struct(item) => &item.attrs,
        Item::Trait(item) => &item.attrs,
        Item::TraitAlias(item) => &item.attrs,
        Item::Type(item) => &item.attrs,
        Item::Union(item) => &item.attrs,
        Item::Use(item) => &item.attrs,
        _ => &[],
    }
}

/// The name an item defines in its module's namespace (an `impl` or a `use` defines none).
fn item_name(item: &Item) -> Option<String> {
    let ident = match item {
        Item::Const(item) => &item.ident,
        Item::Enum(item) => &item.ident,
        Item::Fn(item) => &item.sig.ident,
        Item::Macro(item) => item.ident.as_ref()?,
        Item::Static(item) => &item.ident,
        Item::Struct(item) => &item.ident,
        Item::Trait(item) => &item.ident,
        Item::TraitAlias(item) => &item.ident,
        Item::Type(item) => &item.ident,
        Item::Union(item) => &item.ident,
        _ => return None,
    };
    Some(ident.unraw().to_string())
}

// ---------------------------------------------------------------------------------------------
// The tests: the real tree, then one planted violation per spelling.

fn crate_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn analyse_crate() -> Report {
    analyse(&crate_src(), aforro::LAYERS).expect("src/ can be analysed")
}

#[test]
fn the_source_tree_keeps_its_architecture() {
    let report = analyse_crate();
    // The scan must see real edges, or an empty graph would pass.
    assert!(report.edges.contains_key(&("main".to_owned(), "cli".to_owned())), "the scan finds main -> cli");
    assert!(report.is_clean(), "src/ breaks its architecture:\n{}", report.render());
}

/// A scratch copy of `src/` (under `<temp>/src`) to plant a violation in.
struct Scratch {
    _dir: tempfile::TempDir,
    src: PathBuf,
}

impl Scratch {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let src = dir.path().join("src");
        copy_tree(&crate_src(), &src);
        Self { _dir: dir, src }
    }

    /// Appends `text` to `file` (relative to `src/`); returns the line number `text` starts on.
    fn append(&self, file: &str, text: &str) -> usize {
        let path = self.src.join(file);
        let mut content = fs::read_to_string(&path).expect("the file to plant in exists");
        if !content.ends_with('\n') {
            content.push('\n');
        }
        let line = content.lines().count() + 1;
        content.push_str(text);
        fs::write(&path, content).expect("the scratch copy is writable");
        line
    }

    fn write(&self, file: &str, text: &str) {
        fs::write(self.src.join(file), text).expect("the scratch copy is writable");
    }

    fn analyse(&self) -> Report {
        analyse(&self.src, aforro::LAYERS).expect("the scratch copy can be analysed")
    }
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("a scratch folder");
    for entry in fs::read_dir(from).expect("src/ is readable") {
        let path = entry.expect("src/ is readable").path();
        let target = to.join(path.file_name().expect("a named entry"));
        if path.is_dir() {
            copy_tree(&path, &target);
        } else {
            fs::copy(&path, &target).expect("a copy into the scratch folder");
        }
    }
}

/// The failures `planted` has that the untouched tree does not.
fn new_failures(planted: &Report) -> Vec<String> {
    let before: BTreeSet<String> = analyse_crate().failures().into_iter().collect();
    planted.failures().into_iter().filter(|failure| !before.contains(failure)).collect()
}

/// Asserts the planted tree fails with each of `expected` (among others: an upward edge
/// usually closes a circle too, reported on its own line).
fn assert_fails_with(planted: &Report, expected: &[String]) {
    let found = new_failures(planted);
    for failure in expected {
        assert!(found.contains(failure), "expected {failure:?} among the new failures {found:#?}");
    }
}

// The plants write into files a restructuring is least likely to move (`db/mod.rs`,
// `domain/`, `locking.rs`) and build their own folders where a test needs one.

#[test]
fn a_multi_line_use_group_is_read() {
    let scratch = Scratch::new();
    let line = scratch.append("domain/money.rs", "use crate::{\n    error::Result,\n    http::problem::Problem,\n};\n");

    let report = scratch.analyse();

    let site = format!("src/domain/money.rs:{}", line + 2);
    assert_fails_with(
        &report,
        &[format!("domain::money -> http::problem  {site} (up: domain is in band 8, http in 2)")],
    );
}

#[test]
fn super_paths_are_resolved_at_any_depth() {
    let scratch = Scratch::new();
    let line = scratch.append(
        "db/mod.rs",
        "use super::http::serve::serve as planted;\n\
         mod planted_a {\n    mod planted_b {\n        fn f(_: &super::super::super::app::Application) {}\n    }\n}\n",
    );

    let report = scratch.analyse();

    assert_fails_with(
        &report,
        &[
            format!("db -> http::serve  src/db/mod.rs:{line} (up: db is in band 7, http in 2)"),
            format!("db -> app  src/db/mod.rs:{} (up: db is in band 7, app in 3)", line + 3),
        ],
    );
}

#[test]
fn a_use_after_a_string_holding_slashes_is_read() {
    let scratch = Scratch::new();
    let line = scratch.append(
        "db/mod.rs",
        "fn planted() -> &'static str { let url = \"http://localhost\"; use crate::app::Application; url }\n",
    );

    let report = scratch.analyse();

    assert_fails_with(&report, &[format!("db -> app  src/db/mod.rs:{line} (up: db is in band 7, app in 3)")]);
}

#[test]
fn a_legal_nested_group_passes() {
    let scratch = Scratch::new();
    let line = scratch.append(
        "http/pagination.rs",
        "use crate::{domain::{StoreId, money::{self, Money}}, error::{Error, Result}};\n",
    );

    let report = scratch.analyse();

    let site = format!("src/http/pagination.rs:{line}");
    for to in ["domain::ids", "domain::money", "error"] {
        assert!(report.has_edge("http::pagination", to, &site), "http::pagination -> {to} at {site} is seen");
    }
    assert_eq!(new_failures(&report), Vec::<String>::new(), "{}", report.render());
}

#[test]
fn a_circle_inside_a_folder_is_caught() {
    let scratch = Scratch::new();
    scratch.append("domain/mod.rs", "mod planted_a;\nmod planted_b;\n");
    scratch.write("domain/planted_a.rs", "//! Planted.\nuse super::planted_b::B;\npub struct A(B);\n");
    scratch.write(
        "domain/planted_b.rs",
        "//! Planted.\npub struct B;\nfn back() -> Option<crate::domain::planted_a::A> { None }\n",
    );

    let report = scratch.analyse();

    assert_eq!(new_failures(&report), ["circle: domain::planted_a, domain::planted_b"], "{}", report.render());
    let circle = report.circles.iter().find(|(modules, _)| modules[0] == "domain::planted_a").expect("the circle");
    assert_eq!(
        circle.1,
        [
            "domain::planted_a -> domain::planted_b  src/domain/planted_a.rs:2",
            "domain::planted_b -> domain::planted_a  src/domain/planted_b.rs:3"
        ]
    );
}

#[test]
fn a_face_and_its_own_files_may_name_each_other() {
    let scratch = Scratch::new();
    scratch.append("domain/mod.rs", "mod planted;\n");
    scratch.write("domain/planted.rs", "//! Planted.\nmod inner;\npub struct Shared;\nfn f() { inner::g() }\n");
    fs::create_dir(scratch.src.join("domain/planted")).expect("a planted folder");
    scratch.write("domain/planted/inner.rs", "//! Planted.\npub fn g() { let _ = super::Shared; }\n");

    let report = scratch.analyse();

    assert!(report.has_edge("domain::planted", "domain::planted::inner", "src/domain/planted.rs:4"));
    assert!(report.has_edge("domain::planted::inner", "domain::planted", "src/domain/planted/inner.rs:2"));
    assert_eq!(new_failures(&report), Vec::<String>::new(), "{}", report.render());
}

#[test]
fn a_circle_through_a_folder_face_is_caught() {
    let scratch = Scratch::new();
    scratch.append("domain/mod.rs", "mod planted;\n");
    scratch.write("domain/planted.rs", "//! Planted.\nmod inner;\npub struct Shared;\nfn f() { inner::g() }\n");
    fs::create_dir(scratch.src.join("domain/planted")).expect("a planted folder");
    scratch
        .write("domain/planted/inner.rs", "//! Planted.\npub fn g() { let _ = crate::domain::money::Money::ZERO; }\n");
    let line = scratch.append("domain/money.rs", "fn planted() { let _ = super::planted::Shared; }\n");

    let report = scratch.analyse();

    let circle = report.circles.iter().find(|(modules, _)| modules.contains(&"domain::planted".to_owned()));
    let circle = circle.unwrap_or_else(|| panic!("a circle through the face:\n{}", report.render()));
    assert_eq!(circle.0, ["domain::money", "domain::planted", "domain::planted::inner"]);
    assert_eq!(
        circle.1,
        [
            format!("domain::money -> domain::planted  src/domain/money.rs:{line}"),
            "domain::planted -> domain::planted::inner  src/domain/planted.rs:4 (face to a file inside it)".to_owned(),
            "domain::planted::inner -> domain::money  src/domain/planted/inner.rs:2".to_owned(),
        ]
    );
}

#[test]
fn upward_and_sideways_top_level_edges_are_caught() {
    let scratch = Scratch::new();
    let up = scratch.append("locking.rs", "pub fn planted() { let _ = format!(\"{}\", crate::metrics::NAME); }\n");
    let sideways = scratch.append("search/rank.rs", "use crate::suggest::SuggestMap;\n");

    let report = scratch.analyse();

    assert_fails_with(
        &report,
        &[
            format!("locking -> metrics  src/locking.rs:{up} (up: locking is in band 10, metrics in 9)"),
            format!(
                "search::rank -> suggest::map  src/search/rank.rs:{sideways} (sideways: search is in band 6, suggest in 6)"
            ),
        ],
    );
}

#[test]
fn renames_and_globs_are_followed() {
    let scratch = Scratch::new();
    let line = scratch
        .append("db/mod.rs", "use crate::http as web;\nuse crate::app::*;\nfn planted() { web::serve::serve(); }\n");

    let report = scratch.analyse();

    assert_fails_with(
        &report,
        &[
            format!("db -> app  src/db/mod.rs:{} (up: db is in band 7, app in 3)", line + 1),
            format!("db -> http  src/db/mod.rs:{line} (up: db is in band 7, http in 2)"),
            format!("db -> http::serve  src/db/mod.rs:{} (up: db is in band 7, http in 2)", line + 2),
        ],
    );
}

#[test]
fn test_modules_may_reach_anywhere() {
    let scratch = Scratch::new();
    scratch.append("db/mod.rs", "#[cfg(test)]\nmod planted_tests {\n    use crate::app::Application;\n}\n");

    let report = scratch.analyse();

    assert_eq!(new_failures(&report), Vec::<String>::new(), "{}", report.render());
}

#[test]
fn a_file_no_mod_declares_is_reported() {
    let scratch = Scratch::new();
    scratch.write("db/orphan.rs", "//! Planted.\n");

    let report = scratch.analyse();

    let expected = "src/db/orphan.rs is declared by no `mod`, so the guard cannot place it";
    assert_eq!(new_failures(&report), [expected], "{}", report.render());
}
