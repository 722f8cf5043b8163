//! The job queue, which is the event outbox (every job delivers one event, docs/jobs.md): the
//! recent events by state, newest first, in pages; `state=failed` lists the failed deliveries,
//! and a failed (dead-lettered) one can be put back in the queue, recorded in the history.
//! A job's page shows it with every recorded delivery attempt.

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
use crate::db::admin::listing;
use crate::db::outbox::delivery_attempts::{self, DeliveryAttempt};
use crate::db::outbox::jobs::JobRow;
use crate::db::outbox::jobs::JobState;
use crate::domain::PageRequest;
use crate::domain::admin_list::ADMIN_PAGE_SIZE;
use crate::error::Error;
use crate::http::QueryParams;

const SECTION: &str = "/admin/jobs/";

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/jobs/", get(list_jobs))
        .route("/admin/jobs/{id}/", get(job_page))
        .route("/admin/jobs/{id}/retry/", post(retry_job))
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
    let jobs = state.reads.run(move |conn| listing::job_list(conn, job_state.map(JobState::as_str), page)).await?;
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
                    td.num { a href={ "/admin/jobs/" (job.id) "/" } { (job.id) } }
                    td { (job.kind) }
                    td { code { (job.event_id.as_deref().unwrap_or("")) } }
                    td { @if let Some(order) = job.order_id { a href={ "/admin/orders/" (order) "/" } { (order) } } }
                    td { span.badge.(job.state) { (job.state) } }
                    td.num { (job.attempts) " / " (job.max_attempts) }
                    td { (job.run_at.to_rfc3339()) }
                    td { (job.last_error.as_deref().unwrap_or("")) }
                    td { (retry_button(job, &viewer)) }
                }
            } }
        } }
        @if jobs.rows.is_empty() { p.muted { "No job in this state." } }
        (pager(&url, page, jobs.count, jobs.rows.len()))
    };
    Ok(signed_in_page(&session, "Jobs", SECTION, &body))
}

/// A job with its delivery attempts, oldest first.
async fn job_page(session: WebSession, State(state): State<AppState>, Path(id): Path<String>) -> Result<Markup> {
    let id = crate::http::admin::path_id(&id, "job", |id| id)?;
    let (job, attempts) = state
        .reads
        .run(move |conn| {
            let job = listing::job(conn, id)?.ok_or_else(|| Error::NotFound(format!("job {id} does not exist")))?;
            Ok((job, delivery_attempts::attempts_of(conn, id)?))
        })
        .await?;
    let csrf = session.csrf_token();
    let viewer = layout::Viewer { username: &session.0.username, csrf: &csrf };
    let body = html! {
        div.card id="job-summary" {
            p { span.badge.(job.state) id="state" { (job.state) } " " (job.kind) " · event " code { (job.event_id.as_deref().unwrap_or("")) }
                @if let Some(order) = job.order_id { " · order " a href={ "/admin/orders/" (order) "/" } { (order) } } }
            p { (job.attempts) " / " (job.max_attempts) " attempts · runs at " (job.run_at.to_rfc3339())
                @if let Some(error) = &job.last_error { " · last error: " (error) } }
            div.actions { (retry_button(&job, &viewer)) }
        }
        section id="job-attempts" {
            h2 { "Delivery attempts" }
            @if attempts.is_empty() {
                p.muted { "No attempt recorded (the log sender records none; a webhook records each)." }
            } @else {
                div.table-wrap { table id="attempts" {
                    thead { tr { th.num { "attempt" } th { "started" } th.num { "ms" } th.num { "status" } th { "error" } th { "answer (first KiB)" } } }
                    tbody { @for attempt in &attempts { (attempt_row(attempt)) } }
                } }
            }
        }
    };
    Ok(signed_in_page(&session, &format!("Job {id}"), SECTION, &body))
}

fn attempt_row(attempt: &DeliveryAttempt) -> Markup {
    html! {
        tr {
            td.num { (attempt.attempt) }
            td { (attempt.started_at.to_rfc3339()) }
            td.num { (format!("{:.1}", attempt.duration.as_secs_f64() * 1000.0)) }
            td.num { @if let Some(status) = attempt.http_status { (status) } }
            td { (attempt.error.as_deref().unwrap_or("")) }
            td { @if let Some(answer) = &attempt.answer_excerpt { code { (answer) } } }
        }
    }
}

/// The "Retry" button of a failed (dead-lettered) job; nothing for the others.
fn retry_button(job: &JobRow, viewer: &layout::Viewer<'_>) -> Markup {
    html! {
        @if job.state == "failed" {
            form.inline method="post" action={ "/admin/jobs/" (job.id) "/retry/" } {
                (csrf_field(viewer))
                button type="submit" { "Retry" }
            }
        }
    }
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
