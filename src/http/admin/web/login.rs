//! The login form and its POST. CSRF without a session yet: a double-submit token, a fresh
//! random value set both as an HttpOnly, SameSite=Strict cookie scoped to this path and as the
//! form's hidden field; a POST whose field and cookie differ (or lack either) is refused 403,
//! so another site cannot log a browser in to an account of its choosing. Failed attempts are
//! limited per (username, client address) by [`crate::app::login_throttle`]: 429 with
//! `Retry-After`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::FormFields;
use maud::{Markup, html};

use super::cookies::Cookies;
use super::layout;
use super::session::{constant_time_eq, cookie_value, session_cookie};
use crate::app::AppState;
use crate::domain::SessionToken;
use crate::error::{Error, Result};
use crate::http::admin::auth;
use crate::http::problem::retry_after_header;

pub(super) async fn form(cookies: Cookies) -> Response {
    form_page(cookies, StatusCode::OK, None)
}

pub(super) async fn log_in(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    cookies: Cookies,
    headers: HeaderMap,
    axum::Form(fields): FormFields,
) -> Result<Response> {
    let submitted = fields.get("csrf").map(String::as_str);
    if !csrf_matches(cookie_value(&headers, cookies.login_csrf_name()), submitted) {
        let message = "the form has expired or did not come from this site; reload it";
        return Ok(form_page(cookies, StatusCode::FORBIDDEN, Some(message)));
    }
    let username = fields.get("username").cloned().unwrap_or_default();
    let password = fields.get("password").cloned().unwrap_or_default();
    match auth::login(&state, client.ip(), username, password).await {
        Ok((token, _)) => {
            let mut response = Redirect::to("/admin/").into_response();
            response.headers_mut().append(header::SET_COOKIE, session_cookie(cookies, &token));
            response.headers_mut().append(header::SET_COOKIE, cookies.cleared_login_csrf());
            Ok(response)
        }
        // The form again, with the error and its real status (the problem+json middleware
        // wraps the JSON routes only).
        Err(Error::Unauthorized(message)) => Ok(form_page(cookies, StatusCode::UNAUTHORIZED, Some(message.as_str()))),
        Err(error @ Error::TooManyRequests { retry_after }) => {
            let mut response = form_page(cookies, StatusCode::TOO_MANY_REQUESTS, Some(error.to_string().as_str()));
            response.headers_mut().insert(header::RETRY_AFTER, retry_after_header(retry_after));
            Ok(response)
        }
        // Every password-check slot stayed busy (a login flood): the form again, to retry.
        Err(Error::Unavailable(message)) => {
            let mut response = form_page(cookies, StatusCode::SERVICE_UNAVAILABLE, Some(message.as_str()));
            response.headers_mut().insert(header::RETRY_AFTER, retry_after_header(std::time::Duration::from_secs(1)));
            Ok(response)
        }
        Err(other) => Err(other),
    }
}

/// The form with a fresh token, in the page and in the cookie.
fn form_page(cookies: Cookies, status: StatusCode, error: Option<&str>) -> Response {
    let token = SessionToken::generate();
    let mut response = (status, login_page(token.as_str(), error)).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookies.login_csrf(&token));
    response
}

/// Both halves present and equal.
fn csrf_matches(cookie: Option<&str>, field: Option<&str>) -> bool {
    match (cookie, field) {
        (Some(cookie), Some(field)) if !cookie.is_empty() => constant_time_eq(cookie.as_bytes(), field.as_bytes()),
        _ => false,
    }
}

/// The login page: the form with its CSRF token, and the error of the last attempt if any.
fn login_page(csrf: &str, error: Option<&str>) -> Markup {
    layout::page(
        "Log in",
        "",
        None,
        &html! {
            div.card.login {
                (layout::notice(error, "bad"))
                form method="post" action="/admin/login/" {
                    input type="hidden" name="csrf" value=(csrf);
                    div.field { label for="username" { "Username" }
                        input type="text" name="username" id="username" autocomplete="username" required; }
                    div.field { label for="password" { "Password" }
                        input type="password" name="password" id="password" autocomplete="current-password" required; }
                    div.actions { button type="submit" id="login" { "Log in" } }
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::csrf_matches;

    #[test]
    fn only_a_present_matching_pair_passes() {
        assert!(csrf_matches(Some("abc"), Some("abc")));
        assert!(!csrf_matches(Some("abc"), Some("abd")));
        assert!(!csrf_matches(None, Some("abc")));
        assert!(!csrf_matches(Some("abc"), None));
        assert!(!csrf_matches(Some(""), Some("")));
    }
}
