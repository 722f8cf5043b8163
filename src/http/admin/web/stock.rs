//! Bulk stock from a CSV file (the admin side of `POST /api/admin/stock/bulk/` and
//! `aforro stock import`): a form to upload the file with its error policy, and the per-row
//! result. The upload is a multipart form (a file input needs no script) with the CSRF field
//! like every other form, under the bulk route's 2 MiB body limit. Each quantity an upload
//! changes is recorded in its product's history.

use axum::Router;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};

use super::Result;
use super::layout::{self, csrf_field};
use super::session::WebSession;
use super::signed_in_page;
use crate::app::AppState;
use crate::domain::FieldError;
use crate::domain::stock::{self as input, BulkOutcome, ErrorPolicy};
use crate::error::Error;
use crate::http::problem::HttpError;

const PATH: &str = "/admin/stock/bulk/";
const TITLE: &str = "Bulk stock update";

/// The upload route; the caller layers it with the 2 MiB limit.
pub(super) fn router() -> Router<AppState> {
    Router::new().route(PATH, get(form).post(upload))
}

/// What the page shows under the form.
enum Shown {
    Nothing,
    Applied(BulkOutcome),
    Refused(Vec<FieldError>),
}

fn render(session: &WebSession, policy: ErrorPolicy, result: &Shown) -> Markup {
    let csrf = session.csrf_token();
    let viewer = layout::Viewer { username: &session.0.username, csrf: &csrf };
    let body = html! {
        p.muted {
            "A CSV file with the header " code { "store_id,product_id,quantity" } " (sets on hand) or "
            code { "store_id,product_id,delta" } " (adds to it), at most 10,000 rows and 2 MiB, applied in "
            "order in one transaction. Each changed row writes a movement (reason " code { "bulk" } ")."
        }
        form method="post" action=(PATH) enctype="multipart/form-data" {
            (csrf_field(&viewer))
            p { label for="file" { "CSV file" } input type="file" name="file" id="file" accept=".csv,text/csv" required; }
            p {
                label for="error_policy" { "If a row fails" }
                select name="error_policy" id="error_policy" {
                    option value="reject_everything" selected[policy == ErrorPolicy::RejectEverything] { "apply nothing" }
                    option value="reject_failed_rows" selected[policy == ErrorPolicy::RejectFailedRows] { "apply the other rows" }
                }
            }
            button type="submit" id="bulk-upload" { "Upload" }
        }
        @match result {
            Shown::Nothing => {}
            Shown::Applied(outcome) => {
                p.notice id="notice" role="status" {
                    "Applied " (outcome.applied) " rows; " (outcome.failed.len()) " failed."
                }
                @if !outcome.failed.is_empty() { (failures(outcome.failed.iter().flat_map(|row| row.errors.iter()))) }
            }
            Shown::Refused(errors) => {
                p.notice.bad id="notice" role="alert" { "Nothing applied: " (errors.len()) " problems." }
                (failures(errors.iter()))
            }
        }
    };
    signed_in_page(session, TITLE, PATH, &body)
}

fn failures<'a>(errors: impl Iterator<Item = &'a FieldError>) -> Markup {
    html! {
        div.table-wrap { table id="bulk-errors" {
            thead { tr { th { "row (CSV line − 1)" } th { "problem" } } }
            tbody { @for error in errors { tr { td { code { (error.field) } } td { (error.message) } } } }
        } }
    }
}

async fn form(session: WebSession) -> Result<Markup> {
    Ok(render(&session, ErrorPolicy::default(), &Shown::Nothing))
}

async fn upload(session: WebSession, State(state): State<AppState>, mut multipart: Multipart) -> Result<Response> {
    let (mut csrf, mut policy, mut file) = (None, None, None);
    while let Some(field) = multipart.next_field().await.map_err(|error| bad_form(&error))? {
        match field.name() {
            Some("csrf") => csrf = Some(field.text().await.map_err(|error| bad_form(&error))?),
            Some("error_policy") => policy = Some(field.text().await.map_err(|error| bad_form(&error))?),
            Some("file") => file = Some(field.bytes().await.map_err(|error| bad_form(&error))?),
            _ => {}
        }
    }
    session.check_csrf(csrf.as_deref())?;
    let policy = match policy.as_deref() {
        None | Some("") => ErrorPolicy::default(),
        Some(text) => ErrorPolicy::parse(text)
            .ok_or_else(|| HttpError::BadRequest(format!("error_policy must be one of {}", ErrorPolicy::CHOICES)))?,
    };
    let refused =
        |errors: Vec<FieldError>| (StatusCode::BAD_REQUEST, render(&session, policy, &Shown::Refused(errors)));
    let Some(text) = file.as_deref().map(std::str::from_utf8) else {
        return Ok(refused(vec![FieldError::new("file", "choose a CSV file")]).into_response());
    };
    let Ok(text) = text else {
        return Ok(refused(vec![FieldError::new("file", "the file is not UTF-8 text")]).into_response());
    };
    let body = match input::csv_rows(text) {
        Ok(rows) => serde_json::json!({"error_policy": policy.as_str(), "rows": rows}),
        Err(Error::Validation(errors)) => return Ok(refused(errors).into_response()),
        Err(other) => return Err(other.into()),
    };
    let written = match input::bulk_update(&body) {
        Ok(update) => state.writer.bulk_update_stock_as(session.actor(), update).await,
        Err(error) => Err(error),
    };
    match written {
        Ok(outcome) => Ok(render(&session, policy, &Shown::Applied(outcome)).into_response()),
        Err(Error::Validation(errors)) => Ok(refused(errors).into_response()),
        Err(other) => Err(other.into()),
    }
}

fn bad_form(error: &axum::extract::multipart::MultipartError) -> HttpError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        HttpError::PayloadTooLarge
    } else {
        HttpError::BadRequest(format!("the upload could not be read: {error}"))
    }
}
