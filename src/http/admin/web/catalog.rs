//! Categories and stores: small tables with the same pages (list with search, sort by id or
//! name and pages; create and change form with history; delete confirmation that explains a
//! refusal), so one set of handlers serves both, told apart by [`Model`].

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};

use super::Result;
use super::layout::{self, FieldErrors, as_field_errors, csrf_field, field, pager, sort_header};
use super::products::HISTORY_SHOWN;
use super::session::WebSession;
use super::{FormFields, form_as_json, list_url, redirect, signed_in_page};
use crate::app::AppState;
use crate::db::admin::history::{self, ObjectType};
use crate::db::admin::listing;
use crate::domain::admin_list::{self, NameSort};
use crate::domain::catalog as input;
use crate::domain::{CategoryId, StoreId};
use crate::error::Error;
use crate::http::QueryParams;
use crate::http::problem::HttpError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Model {
    Category,
    Store,
}

impl Model {
    fn path(self) -> &'static str {
        match self {
            Self::Category => "/admin/categories/",
            Self::Store => "/admin/stores/",
        }
    }

    fn title(self) -> (&'static str, &'static str) {
        match self {
            Self::Category => ("category", "Categories"),
            Self::Store => ("store", "Stores"),
        }
    }

    /// The editable fields: (name, label, required).
    fn fields(self) -> &'static [(&'static str, &'static str, bool)] {
        match self {
            Self::Category => &[("name", "Name", true)],
            Self::Store => &[("name", "Name", true), ("location", "Location", false)],
        }
    }

    fn object(self) -> ObjectType {
        match self {
            Self::Category => ObjectType::Category,
            Self::Store => ObjectType::Store,
        }
    }
}

/// One row as the pages show it: id and field values in [`Model::fields`] order.
struct Record {
    id: i64,
    values: Vec<String>,
}

pub(super) fn router() -> Router<AppState> {
    let mut router = Router::new();
    for model in [Model::Category, Model::Store] {
        let base = model.path();
        router = router
            .route(base, get(move |s, st, q| list(model, s, st, q)))
            .route(&format!("{base}new/"), get(move |s| new(model, s)).post(move |s, st, f| create(model, s, st, f)))
            .route(
                &format!("{base}{{id}}/"),
                get(move |s, st, p| edit(model, s, st, p)).post(move |s, st, p, f| save(model, s, st, p, f)),
            )
            .route(
                &format!("{base}{{id}}/delete/"),
                get(move |s, st, p| confirm_delete(model, s, st, p))
                    .post(move |s, st, p, f| delete(model, s, st, p, f)),
            );
    }
    router
}

fn parse_id(model: Model, text: &str) -> crate::error::Result<i64> {
    crate::http::admin::path_id(text, model.title().0, |id| id)
}

async fn list(model: Model, session: WebSession, State(state): State<AppState>, query: QueryParams) -> Result<Markup> {
    let url = list_url(model.path(), &query);
    let (q, sort, page) =
        admin_list::name_list(&query).map_err(|_| HttpError::BadRequest("sort must be id or name".into()))?;
    let search = q.clone();
    let rows = state
        .reads
        .run(move |conn| {
            Ok(match model {
                Model::Category => {
                    let found = listing::category_list(conn, search.as_deref(), sort, page)?;
                    let rows =
                        found.rows.into_iter().map(|row| Record { id: row.id.0, values: vec![row.name] }).collect();
                    (found.count, rows)
                }
                Model::Store => {
                    let found = listing::store_list(conn, search.as_deref(), sort, page)?;
                    let rows = found
                        .rows
                        .into_iter()
                        .map(|row| Record { id: row.id.0, values: vec![row.name, row.location] })
                        .collect::<Vec<_>>();
                    (found.count, rows)
                }
            })
        })
        .await?;
    let (count, rows): (i64, Vec<Record>) = rows;
    let (singular, plural) = model.title();
    let body = html! {
        form.toolbar method="get" action=(model.path()) role="search" {
            label for="q" { "Search" input type="search" name="q" id="q" value=(url.get("q")); }
            input type="hidden" name="sort" value=(sort.to_param());
            button type="submit" id="search" { "Search" }
            a.button.secondary href={ (model.path()) "new/" } id="add" { "Add " (singular) }
        }
        div.table-wrap { table id="rows" {
            thead { tr {
                (sort_header(&url, sort, NameSort::Id, "id", true))
                (sort_header(&url, sort, NameSort::Name, "name", false))
                @if model == Model::Store { th { "location" } th { "inventory" } }
            } }
            tbody { @for row in &rows {
                tr {
                    td.num { (row.id) }
                    td { a href={ (model.path()) (row.id) "/" } { (row.values[0]) } }
                    @if model == Model::Store {
                        td { (row.values.get(1).map_or("", String::as_str)) }
                        td { a href={ "/admin/stores/" (row.id) "/inventory/" } { "inventory" } }
                    }
                }
            } }
        } }
        (pager(&url, page, count, rows.len()))
    };
    Ok(signed_in_page(&session, plural, model.path(), &body))
}

fn form(model: Model, session: &WebSession, action: &str, values: &[String], errors: &FieldErrors) -> Markup {
    let csrf = session.csrf_token();
    let viewer = layout::Viewer { username: &session.0.username, csrf: &csrf };
    html! {
        form.card method="post" action=(action) novalidate {
            (csrf_field(&viewer))
            @for (index, (name, label, required)) in model.fields().iter().enumerate() {
                (field(name, label, errors, &html! {
                    input type="text" name=(name) id=(name) value=(values.get(index).map_or("", String::as_str)) required[*required] maxlength="200";
                }))
            }
            div.actions { button type="submit" id="save" { "Save" } }
        }
    }
}

fn submitted(model: Model, fields: &HashMap<String, String>) -> Vec<String> {
    model.fields().iter().map(|(name, _, _)| fields.get(*name).cloned().unwrap_or_default()).collect()
}

async fn new(model: Model, session: WebSession) -> Markup {
    let title = format!("Add {}", model.title().0);
    signed_in_page(
        &session,
        &title,
        model.path(),
        &form(model, &session, &format!("{}new/", model.path()), &[], &FieldErrors::new()),
    )
}

/// Creates (`id` `None`) or changes one, through the API's parser and the logged write.
async fn write(
    model: Model,
    session: &WebSession,
    state: &AppState,
    id: Option<i64>,
    fields: &HashMap<String, String>,
) -> crate::error::Result<i64> {
    let body = form_as_json(fields);
    match model {
        Model::Category => {
            let input = input::category(&body)?;
            Ok(state.writer.save_category_as(session.actor(), id.map(CategoryId), input).await?.0)
        }
        Model::Store => {
            let input = input::store(&body)?;
            Ok(state.writer.save_store_as(session.actor(), id.map(StoreId), input).await?.0)
        }
    }
}

async fn create(
    model: Model,
    session: WebSession,
    State(state): State<AppState>,
    form_fields: FormFields,
) -> Result<Response> {
    let fields = session.accept(form_fields)?;
    match write(model, &session, &state, None, &fields).await {
        Ok(id) => Ok(redirect(&format!("{}{id}/", model.path()))),
        Err(error) => {
            let errors = as_field_errors(error)?;
            let title = format!("Add {}", model.title().0);
            let body = form(model, &session, &format!("{}new/", model.path()), &submitted(model, &fields), &errors);
            Ok((StatusCode::BAD_REQUEST, signed_in_page(&session, &title, model.path(), &body)).into_response())
        }
    }
}

async fn load(model: Model, state: &AppState, id: i64) -> crate::error::Result<(Record, Vec<history::LogEntry>)> {
    state
        .reads
        .run(move |conn| {
            let record = match model {
                Model::Category => {
                    let row = listing::category(conn, CategoryId(id))?;
                    Record { id, values: vec![row.name] }
                }
                Model::Store => {
                    let row = listing::store(conn, StoreId(id))?;
                    Record { id, values: vec![row.name, row.location] }
                }
            };
            Ok((record, history::history(conn, model.object(), id, HISTORY_SHOWN)?))
        })
        .await
}

fn edit_page(
    model: Model,
    session: &WebSession,
    record: &Record,
    values: &[String],
    log: &[history::LogEntry],
    errors: &FieldErrors,
) -> Markup {
    let path = format!("{}{}/", model.path(), record.id);
    let title = format!("{} {}: {}", model.title().0, record.id, record.values[0]);
    let body = html! {
        @if !errors.is_empty() { (layout::notice(Some("Not saved: fix the fields marked below."), "bad")) }
        (form(model, session, &path, values, errors))
        div.actions {
            @if model == Model::Store { a.button.secondary href={ (path) "inventory/" } id="inventory" { "Inventory" } }
            a.button.danger href={ (path) "delete/" } id="delete" { "Delete…" }
        }
        (layout::history(log))
    };
    signed_in_page(session, &title, model.path(), &body)
}

async fn edit(
    model: Model,
    session: WebSession,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Markup> {
    let (record, log) = load(model, &state, parse_id(model, &id)?).await?;
    Ok(edit_page(model, &session, &record, &record.values, &log, &FieldErrors::new()))
}

async fn save(
    model: Model,
    session: WebSession,
    State(state): State<AppState>,
    Path(id): Path<String>,
    form_fields: FormFields,
) -> Result<Response> {
    let fields = session.accept(form_fields)?;
    let id = parse_id(model, &id)?;
    match write(model, &session, &state, Some(id), &fields).await {
        Ok(_) => Ok(redirect(&format!("{}{id}/", model.path()))),
        Err(error) => {
            let errors = as_field_errors(error)?;
            let (record, log) = load(model, &state, id).await?;
            let page = edit_page(model, &session, &record, &submitted(model, &fields), &log, &errors);
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
    }
}

fn delete_page(model: Model, session: &WebSession, record: &Record, refusal: Option<&str>) -> Markup {
    let csrf = session.csrf_token();
    let viewer = layout::Viewer { username: &session.0.username, csrf: &csrf };
    let path = format!("{}{}/", model.path(), record.id);
    let title = format!("Delete {} {}?", model.title().0, record.id);
    let question = html! { "Delete " strong { (record.values[0]) } "?" };
    let body = layout::delete_confirmation(&viewer, &path, &question, refusal);
    signed_in_page(session, &title, model.path(), &body)
}

async fn confirm_delete(
    model: Model,
    session: WebSession,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Markup> {
    let (record, _) = load(model, &state, parse_id(model, &id)?).await?;
    Ok(delete_page(model, &session, &record, None))
}

async fn delete(
    model: Model,
    session: WebSession,
    State(state): State<AppState>,
    Path(id): Path<String>,
    form_fields: FormFields,
) -> Result<Response> {
    session.accept(form_fields)?;
    let id = parse_id(model, &id)?;
    let deleted = match model {
        Model::Category => state.writer.delete_category_as(session.actor(), CategoryId(id)).await,
        Model::Store => state.writer.delete_store_as(session.actor(), StoreId(id)).await,
    };
    match deleted {
        Ok(()) => Ok(redirect(model.path())),
        // The data forbids it (products use the category; the store has orders or stock).
        Err(Error::Conflict(reason)) => {
            let (record, _) = load(model, &state, id).await?;
            let page = delete_page(model, &session, &record, Some(&format!("Not deleted: {reason}.")));
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}
