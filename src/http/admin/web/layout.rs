//! The frame every admin page shares (navigation, the embedded style sheet, who is signed in)
//! and the pieces lists and forms repeat: sortable headers, the pager, a labelled field with
//! its inline error, the change history.

use std::collections::HashMap;
use std::sync::LazyLock;

use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::db::admin::history::LogEntry;
use crate::db::admin::listing::COUNT_BOUND;
use crate::domain::PageRequest;
use crate::domain::admin_list::{Sort, SortKey};
use crate::error::{Error, FieldError};

/// The one style sheet: embedded in the binary, inlined in every page (no request, no build
/// step), system fonts only.
const STYLE: &str = include_str!("style.css");

/// `Content-Security-Policy` of every admin page. The pages run no script, load nothing from
/// anywhere (no images, fonts or frames) and post their forms only to themselves; the one
/// inline style sheet is allowed by its SHA-256, so an injected `<style>` or `<script>` that
/// slipped past maud's escaping would still not apply.
pub(super) fn content_security_policy() -> &'static str {
    static POLICY: LazyLock<String> = LazyLock::new(|| {
        use base64::Engine as _;
        use sha2::Digest as _;
        let style = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(STYLE.as_bytes()));
        format!(
            "default-src 'none'; style-src 'sha256-{style}'; form-action 'self'; frame-ancestors 'none'; \
             base-uri 'none'"
        )
    });
    &POLICY
}

/// The sections of the navigation bar: (path, label).
const SECTIONS: [(&str, &str); 13] = [
    ("/admin/", "Dashboard"),
    ("/admin/products/", "Products"),
    ("/admin/categories/", "Categories"),
    ("/admin/stores/", "Stores"),
    ("/admin/orders/", "Orders"),
    ("/admin/stock/bulk/", "Bulk stock"),
    ("/admin/jobs/", "Jobs"),
    ("/admin/accounts/", "Accounts"),
    ("/admin/keys/", "API keys"),
    ("/admin/synonyms/", "Synonyms"),
    ("/admin/search-rules/", "Search rules"),
    ("/admin/search-insights/", "Search insights"),
    ("/admin/search-preview/", "Search preview"),
];

/// Who is signed in, for the header and every form's CSRF field.
pub(super) struct Viewer<'a> {
    pub username: &'a str,
    pub csrf: &'a str,
}

/// A whole page: `section` is the navigation entry to mark current.
pub(super) fn page(title: &str, section: &str, viewer: Option<&Viewer<'_>>, body: &Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Aforro admin" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header.top {
                    a.brand href="/admin/" { "Aforro admin" }
                    @if let Some(viewer) = viewer {
                        nav aria-label="Sections" {
                            @for (path, label) in SECTIONS {
                                a href=(path) aria-current=[(path == section).then_some("page")] { (label) }
                            }
                        }
                        div.who {
                            span { "Signed in as " strong { (viewer.username) } }
                            form.inline method="post" action="/admin/logout/" {
                                (csrf_field(viewer))
                                button type="submit" { "Log out" }
                            }
                        }
                    }
                }
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

pub(super) fn csrf_field(viewer: &Viewer<'_>) -> Markup {
    html! { input type="hidden" name="csrf" value=(viewer.csrf); }
}

/// A list's current query string, to rebuild links that change one parameter.
#[derive(Clone)]
pub(super) struct ListUrl {
    pub path: String,
    pub params: Vec<(String, String)>,
}

impl ListUrl {
    /// This list with `name` set to `value` (removed when `None`), back on page 1 unless the
    /// page itself is what changes.
    pub(super) fn with(&self, name: &str, value: Option<&str>) -> String {
        let mut params: Vec<(String, String)> =
            self.params.iter().filter(|(key, _)| key != name && (name == "page" || key != "page")).cloned().collect();
        if let Some(value) = value {
            params.push((name.to_owned(), value.to_owned()));
        }
        let query = serde_urlencoded::to_string(&params).unwrap_or_default();
        if query.is_empty() { self.path.clone() } else { format!("{}?{query}", self.path) }
    }

    pub(super) fn get(&self, name: &str) -> &str {
        self.params.iter().find(|(key, _)| key == name).map_or("", |(_, value)| value.as_str())
    }
}

/// A column header that sorts by `key` (a second click reverses it), marked for screen
/// readers with `aria-sort`.
pub(super) fn sort_header<K: SortKey>(url: &ListUrl, current: Sort<K>, key: K, label: &str, numeric: bool) -> Markup {
    let active = current.key == key;
    let next = Sort { key, descending: active && !current.descending };
    let state = match (active, current.descending) {
        (false, _) => "none",
        (true, false) => "ascending",
        (true, true) => "descending",
    };
    let arrow = match state {
        "ascending" => " ▲",
        "descending" => " ▼",
        _ => "",
    };
    html! {
        th.num[numeric] aria-sort=(state) {
            a href=(url.with("sort", Some(&next.to_param()))) id={ "sort-" (key.name()) } { (label) (arrow) }
        }
    }
}

/// "N found · page P · previous / next", with counts past [`COUNT_BOUND`] shown as "1000+".
pub(super) fn pager(url: &ListUrl, page: PageRequest, count: i64, shown: usize) -> Markup {
    let total = if count > COUNT_BOUND { format!("{COUNT_BOUND}+") } else { count.to_string() };
    pages(url, page, count, shown, Some(&total))
}

/// The pager of a list that was not counted (`seen`: rows up to this page, plus one if more).
pub(super) fn uncounted_pager(url: &ListUrl, page: PageRequest, seen: i64, shown: usize) -> Markup {
    pages(url, page, seen, shown, None)
}

fn pages(url: &ListUrl, page: PageRequest, count: i64, shown: usize, total: Option<&str>) -> Markup {
    let has_next = page.offset() + i64::try_from(shown).unwrap_or(0) < count;
    html! {
        nav.pager aria-label="Pages" {
            span id="count" { @if let Some(total) = total { (total) " found · " } "page " (page.page) }
            @if page.page > 1 {
                a href=(url.with("page", Some(&(page.page - 1).to_string()))) id="previous" rel="prev" { "← Previous" }
            }
            @if has_next {
                a href=(url.with("page", Some(&(page.page + 1).to_string()))) id="next" rel="next" { "Next →" }
            }
        }
    }
}

/// Validation errors by field name, for showing each next to its field.
pub(super) type FieldErrors = HashMap<String, String>;

pub(super) fn field_errors(errors: &[FieldError]) -> FieldErrors {
    let mut by_field = FieldErrors::new();
    for error in errors {
        by_field.entry(error.field.clone()).or_insert_with(|| error.message.clone());
    }
    by_field
}

/// Whether `error` is one the form shows inline (as opposed to a page-level failure).
pub(super) fn as_field_errors(error: Error) -> Result<FieldErrors, Error> {
    match error {
        Error::Validation(errors) => Ok(field_errors(&errors)),
        other => Err(other),
    }
}

/// A labelled form row: `control` must carry `id=name`; the error (if any) follows it and is
/// tied to it with `aria-describedby`.
pub(super) fn field(name: &str, label: &str, errors: &FieldErrors, control: &Markup) -> Markup {
    let error = errors.get(name);
    html! {
        div.field.invalid[error.is_some()] {
            label for=(name) { (label) }
            (control)
            @if let Some(error) = error { p.error id={ (name) "-error" } role="alert" { (error) } }
        }
    }
}

/// An object's change history, newest first.
pub(super) fn history(entries: &[LogEntry]) -> Markup {
    html! {
        h2 { "History" }
        @if entries.is_empty() { p.muted id="history-empty" { "No changes recorded yet." } } @else {
            div.table-wrap { table id="history" {
                thead { tr { th { "when" } th { "who" } th { "action" } th { "changes" } } }
                tbody { @for entry in entries {
                    tr {
                        td { (entry.created_at.to_rfc3339()) }
                        td { (entry.username) }
                        td { (entry.action) }
                        td { @for (field, before, after) in &entry.changes {
                            div.change { strong { (field) } ": " del { (shown(before)) } " → " ins { (shown(after)) } }
                        } }
                    }
                } }
            } }
        }
    }
}

/// A JSON value as a person reads it: strings without quotes, null as a dash.
fn shown(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => "—".to_owned(),
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A notice above the page's content (`class`: "" for success, "bad", "warn").
pub(super) fn notice(text: Option<&str>, class: &str) -> Markup {
    html! { @if let Some(text) = text { p.notice.(class) id="notice" role="status" { (text) } } }
}

/// A delete confirmation: what will go, a form that deletes it, a way back; or, when the data
/// forbade the delete, the reason and the way back.
pub(super) fn delete_confirmation(
    viewer: &Viewer<'_>,
    object_path: &str,
    question: &Markup,
    refusal: Option<&str>,
) -> Markup {
    html! {
        @if let Some(refusal) = refusal {
            p.notice.bad id="refusal" role="alert" { (refusal) }
            a.button.secondary href=(object_path) { "Back" }
        } @else {
            div.card {
                p { (question) " This cannot be undone." }
                form method="post" action={ (object_path) "delete/" } {
                    (csrf_field(viewer))
                    div.actions {
                        button.danger type="submit" id="confirm-delete" { "Yes, delete it" }
                        a.button.secondary href=(object_path) { "No, keep it" }
                    }
                }
            }
        }
    }
}
