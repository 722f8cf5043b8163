//! The DRF pagination envelope: `count`, absolute `next`/`previous` links, `results`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::Serialize;

use super::serve::LocalAddr;
use crate::config::PublicUrl;
use crate::db::store::listings::PageOf;
use crate::domain::PageRequest;
use crate::error::Error;
use crate::http::problem::HttpError;

/// The response body of every list endpoint.
#[derive(Debug, Serialize)]
pub struct Paginated<T> {
    /// Rows in the whole list.
    pub count: i64,
    /// The next page's absolute URL, `null` on the last page.
    pub next: Option<String>,
    /// The previous page's absolute URL, `null` on the first.
    pub previous: Option<String>,
    /// This page's rows.
    pub results: Vec<T>,
}

impl<T> Paginated<T> {
    /// Wraps a page, or fails with 404 for a page past the end (as DRF does).
    pub fn new(page: PageOf<T>, request: PageRequest, links: &PageLinks) -> Result<Self, Error> {
        if !request.exists_for(page.count) {
            return Err(Error::NotFound(format!("page {} does not exist", request.page)));
        }
        Ok(Self {
            count: page.count,
            next: request.has_next(page.count).then(|| links.to_page(request.page + 1)),
            previous: (request.page > 1).then(|| links.to_page(request.page - 1)),
            results: page.rows,
        })
    }
}

/// What is needed to build absolute links to other pages of the same request: the origin
/// ([`origin`]), its path and its query string.
#[derive(Debug, Clone)]
pub struct PageLinks {
    base: String,
    query: Vec<(String, String)>,
}

impl PageLinks {
    /// The same URL with `page` set to `page`; for page 1 the parameter is dropped, as DRF does.
    pub fn to_page(&self, page: u32) -> String {
        let mut query: Vec<(String, String)> = self.query.iter().filter(|(name, _)| name != "page").cloned().collect();
        if page > 1 {
            query.push(("page".to_owned(), page.to_string()));
        }
        let encoded = serde_urlencoded::to_string(&query).unwrap_or_default();
        if encoded.is_empty() { self.base.clone() } else { format!("{}?{encoded}", self.base) }
    }
}

/// The origin of absolute links: `--public-url` when set, else the address the client's
/// connection reached. Never the `Host` or `X-Forwarded-*` headers: any client sets those, and
/// a shared cache in front would hand its answer, links to the attacker's host included, to
/// everyone.
fn origin(parts: &Parts) -> String {
    if let Some(public) = parts.extensions.get::<PublicUrl>() {
        return public.origin().to_owned();
    }
    match parts.extensions.get::<LocalAddr>() {
        Some(LocalAddr(local)) => format!("http://{local}"),
        // Only a router driven without the accept loop (a unit test) gets here.
        None => "http://localhost".to_owned(),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PageLinks {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, HttpError> {
        let query = serde_urlencoded::from_str(parts.uri.query().unwrap_or(""))
            .map_err(|error| HttpError::BadRequest(format!("the query string is malformed: {error}")))?;
        Ok(Self { base: format!("{}{}", origin(parts), parts.uri.path()), query })
    }
}

#[cfg(test)]
mod tests {
    use super::PageLinks;

    #[test]
    fn links_keep_other_parameters_and_drop_page_one() {
        let links = PageLinks {
            base: "http://shop.test/stores/1/orders/".to_owned(),
            query: vec![("status".into(), "CONFIRMED".into()), ("page".into(), "2".into())],
        };
        assert_eq!(links.to_page(3), "http://shop.test/stores/1/orders/?status=CONFIRMED&page=3");
        assert_eq!(links.to_page(1), "http://shop.test/stores/1/orders/?status=CONFIRMED");
    }
}
