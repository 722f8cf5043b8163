//! The page's session: the login token in an HttpOnly, SameSite=Strict cookie, checked
//! against the same session table as the API's Bearer tokens, and the per-session form token
//! every POST must carry (CSRF: SameSite keeps other sites' requests cookieless, the form
//! token covers browsers that ignore SameSite).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::cookies::Cookies;
use crate::app::AppState;
use crate::db::admin::sessions::{AdminSession, SESSION_TTL};
use crate::domain::SessionToken;
use crate::error::{Error, Result};
use crate::http::admin::auth::authenticate;
use crate::http::problem::HttpError;

pub(super) use super::cookies::LOGIN_PATH;

/// A signed-in admin on the page; anyone else is redirected to the login form.
pub(super) struct WebSession(pub AdminSession);

impl FromRequestParts<AppState> for WebSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> std::result::Result<Self, Response> {
        match authenticate(state, cookie_token(parts)).await {
            Ok(session) => Ok(Self(session)),
            Err(Error::Unauthorized(_)) => Err(Redirect::to(LOGIN_PATH).into_response()),
            Err(other) => Err(other.into_response()),
        }
    }
}

impl WebSession {
    /// The hidden field value every form of this session carries.
    pub(super) fn csrf_token(&self) -> String {
        self.0.token.csrf_token()
    }

    /// Refuses a form whose token is not this session's (403 would tell an attacker nothing
    /// more than 400 does; 400 keeps the error type's set small).
    pub(super) fn check_csrf(&self, submitted: Option<&str>) -> Result<(), HttpError> {
        let expected = self.csrf_token();
        match submitted {
            Some(submitted) if constant_time_eq(submitted.as_bytes(), expected.as_bytes()) => Ok(()),
            _ => Err(HttpError::BadRequest("the form has expired or did not come from this site; reload it".into())),
        }
    }
}

/// The session token from the request's cookie, if any.
fn cookie_token(parts: &Parts) -> Option<SessionToken> {
    cookie_value(&parts.headers, Cookies::of(&parts.extensions).session_name()).and_then(SessionToken::parse)
}

/// The value of the request's cookie `wanted`, if any.
pub(super) fn cookie_value<'a>(headers: &'a HeaderMap, wanted: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == wanted)
        .map(|(_, value)| value)
}

/// `Set-Cookie` for a new session (its name and flags by [`Cookies`]).
pub(super) fn session_cookie(cookies: Cookies, token: &SessionToken) -> HeaderValue {
    cookies.session(token, SESSION_TTL.as_secs())
}

pub(super) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}
