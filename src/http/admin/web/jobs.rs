//! The job queue, which is the event outbox (every job delivers one event, docs/jobs.md): the
//! recent events by state, newest first, in pages; `state=failed` lists the failed deliveries,
//! and a failed (dead-lettered) one can be put back in the queue, recorded in the history.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use maud::{Markup, html};

use super::Result;
use super::layout::{self, csrf_field, pager};
use super::session::WebSession;
use super::{FormFields, list_url, redirect, signed_in_page};
use crate::app::AppState;
use crate::db::admin_pages;
use crate::db::jobs::JobState;
use crate::domain::PageRequest;
use crate::domain::admin_list::ADMIN_PAGE_SIZE;
use crate::error::Error;
use crate::http::QueryParams;

const SECTION: &str = "/admin/jobs/";

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/admin/jobs/", get(list_jobs)).route("/admin/jobs/{id}/retry/", post(retry_job))
}

async fn list_jobs(session: WebSession, State(state): State<AppState>, query: QueryParams) -> Result<Markup> {
    let url = list_url(SECTION, &query);
    let job_state = match query.get("state").filter(|text| !text.is_empty()) {
        None => None,
        Some(text) => Some(
            JobState::parse(text).ok_or_else(|| Error::field("state", "must be queued, running, done or failed"))?,
        ),
    };
    let page = PageRequest::parse(query.get("page"), None).map_err(Error::Validation)?;
    let page = PageRequest { page_size: ADMIN_PAGE_SIZE, ..page };
    let jobs = state.reads.run(move |conn| admin_pages::jobs(conn, job_state.map(JobState::as_str), page)).await?;
    let csrf = session.csrf_token();
    let viewer = layout::Viewer { username: &session.0.username, csrf: &csrf };
    let body = html! {
        (layout::notice(query.get("retried").map(|id| format!("Job {id} is queued again.")).as_deref(), ""))
        form.toolbar method="get" action=(SECTION) {
            label for="state" { "State"
                select name="state" id="state" {
                    option value="" { "any" }
                    @for candidate in JobState::ALL {
                        option value=(candidate.as_str()) selected[job_state == Some(candidate)] { (candidate.as_str()) }
                    }
                }
            }
            button type="submit" id="jobs-filter" { "Filter" }
        }
        div.table-wrap { table id="jobs" {
            thead { tr { th.num { "id" } th { "event" } th { "event id" } th { "order" } th { "state" } th.num { "attempts" } th { "run at" } th { "last error" } th {} } }
            tbody { @for job in &jobs.rows {
                tr id={ "job-" (job.id) } {
                    td.num { (job.id) }
                    td { (job.kind) }
                    td { code { (job.event_id.as_deref().unwrap_or("")) } }
                    td { @if let Some(order) = job.order_id { a href={ "/admin/orders/" (order) "/" } { (order) } } }
                    td { span.badge.(job.state) { (job.state) } }
                    td.num { (job.attempts) " / " (job.max_attempts) }
                    td { (job.run_at.to_rfc3339()) }
                    td { (job.last_error.as_deref().unwrap_or("")) }
                    td { @if job.state == "failed" {
                        form.inline method="post" action={ "/admin/jobs/" (job.id) "/retry/" } {
                            (csrf_field(&viewer))
                            button type="submit" { "Retry" }
                        }
                    } }
                }
            } }
        } }
        @if jobs.rows.is_empty() { p.muted { "No job in this state." } }
        (pager(&url, page, jobs.count, jobs.rows.len()))
    };
    Ok(signed_in_page(&session, "Jobs", SECTION, &body))
}

async fn retry_job(
    session: WebSession,
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: FormFields,
) -> Result<Response> {
    session.accept(form)?;
    let id = crate::http::admin::path_id(&id, "job", |id| id)?;
    if !state.writer.retry_job_as(session.actor(), id).await? {
        return Err(Error::Conflict(format!("job {id} is not a failed job")).into());
    }
    Ok(redirect(&format!("/admin/jobs/?state=queued&retried={id}")))
}
