//! The page's two cookies, the session and the login form's CSRF token: their names and
//! attributes, which depend on whether clients come over TLS (`--public-url https://…`).
//!
//! Over TLS the session cookie is `__Host-aforro_admin; Path=/; Secure`: browsers send it only
//! over HTTPS, and the `__Host-` prefix makes them refuse it unless it was set by this very
//! host over HTTPS with no `Domain` and `Path=/`, so neither a plain-HTTP answer nor a sibling
//! subdomain can plant or overwrite one (session fixation). The CSRF cookie keeps its narrow
//! path, so it takes the `__Secure-` prefix (Secure required, path free). Over plain HTTP the
//! prefixes would make browsers drop the cookies, so they are plain names scoped to `/admin/`.
//! Both are HttpOnly and SameSite=Strict either way.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderValue};

use crate::config::PublicUrl;
use crate::domain::SessionToken;

/// Where a visitor without a session is sent, and the login form's CSRF cookie's path.
pub(super) const LOGIN_PATH: &str = "/admin/login/";

/// How long a rendered login form stays usable.
const CSRF_TTL_SECS: u32 = 60 * 60;

/// The cookie policy of this request: `Secure` and prefixed when the public URL is https.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Cookies {
    secure: bool,
}

impl Cookies {
    /// The policy for a request carrying these extensions (`--public-url` travels in them).
    pub(super) fn of(extensions: &Extensions) -> Self {
        Self { secure: extensions.get::<PublicUrl>().is_some_and(PublicUrl::is_https) }
    }

    /// The session cookie's name.
    pub(super) fn session_name(self) -> &'static str {
        if self.secure { "__Host-aforro_admin" } else { "aforro_admin" }
    }

    /// The login form's CSRF cookie's name.
    pub(super) fn login_csrf_name(self) -> &'static str {
        if self.secure { "__Secure-aforro_login_csrf" } else { "aforro_login_csrf" }
    }

    /// `Set-Cookie` for a new session lasting `max_age_secs`.
    pub(super) fn session(self, token: &SessionToken, max_age_secs: u64) -> HeaderValue {
        self.header(self.session_name(), token.as_str(), self.session_path(), max_age_secs)
    }

    /// `Set-Cookie` that removes the session cookie.
    pub(super) fn cleared_session(self) -> HeaderValue {
        self.header(self.session_name(), "", self.session_path(), 0)
    }

    /// `Set-Cookie` for a login form's CSRF token.
    pub(super) fn login_csrf(self, token: &SessionToken) -> HeaderValue {
        self.header(self.login_csrf_name(), token.as_str(), LOGIN_PATH, u64::from(CSRF_TTL_SECS))
    }

    /// `Set-Cookie` that removes the login form's CSRF cookie.
    pub(super) fn cleared_login_csrf(self) -> HeaderValue {
        self.header(self.login_csrf_name(), "", LOGIN_PATH, 0)
    }

    /// `__Host-` requires `Path=/`.
    fn session_path(self) -> &'static str {
        if self.secure { "/" } else { "/admin/" }
    }

    fn header(self, name: &str, value: &str, path: &str, max_age_secs: u64) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        let cookie = format!("{name}={value}; Path={path}; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}");
        HeaderValue::from_str(&cookie).expect("hex digits and fixed text make a valid header")
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Cookies {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(Self::of(&parts.extensions))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(public_url: Option<&str>) -> Cookies {
        let mut extensions = Extensions::new();
        if let Some(url) = public_url {
            extensions.insert(PublicUrl::parse(url).expect("a public URL"));
        }
        Cookies::of(&extensions)
    }

    #[test]
    fn over_tls_the_session_cookie_is_host_prefixed_secure_and_site_wide() {
        let token = SessionToken::generate();
        let cookie = policy(Some("https://shop.example")).session(&token, 60);
        let text = cookie.to_str().expect("ascii");
        assert!(text.starts_with("__Host-aforro_admin="), "{text}");
        assert!(text.contains("; Path=/;") && text.ends_with("; Secure") && !text.contains("Domain"), "{text}");
        let csrf = policy(Some("https://shop.example")).login_csrf(&token);
        assert!(csrf.to_str().expect("ascii").starts_with("__Secure-aforro_login_csrf="));
    }

    #[test]
    fn over_plain_http_the_cookies_have_no_prefix_and_no_secure_flag() {
        let token = SessionToken::generate();
        for public_url in [None, Some("http://10.0.0.5:8000")] {
            let text = policy(public_url).session(&token, 60).to_str().expect("ascii").to_owned();
            assert!(text.starts_with("aforro_admin=") && text.contains("Path=/admin/"), "{text}");
            assert!(!text.contains("Secure"), "{text}");
        }
    }
}
