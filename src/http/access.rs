//! One place decides access: [`RULES`] gives every JSON route its gate (no credential, a
//! public action, or a guarded one) and says where the route names a store. The router wraps
//! each route in `enforce` with its rule at start-up, and panics on a route without one (a
//! test builds the router, so such a route cannot be merged).
//!
//! Order of checks (contract, Conventions): routing (`404`/`405`: the gate wraps only matched
//! methods), then `401`, then `403` for the action, then the key's rate limit (`429`); the
//! handler then parses the request (`400`) and checks the store it names with
//! [`Caller::require_store`] (`403`) before looking anything up (`404`/`409`).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use crate::access::Caller;
use crate::app::AppState;
use crate::domain::SessionToken;
use crate::domain::access::{Action, ApiKeySecret};
use crate::error::{Error, Result};

/// What a route asks of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Anyone, in either mode (health, OpenAPI, docs, the admin login).
    Open,
    /// A public route: anyone in open mode; in keyed mode a credential holding one of these.
    Public(&'static [Action]),
    /// An admin token in open mode; in keyed mode also the master key or a key holding one of
    /// these.
    Guarded(&'static [Action]),
}

/// Where a route names the store its request is about (store-scoped keys are held to it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreNamed {
    /// The route is about no one store.
    Nowhere,
    /// `{store_id}` in the path: checked before anything is read.
    Path,
    /// `store_id` in the JSON body: checked once the body parses.
    Body,
    /// The optional `store_id` query parameter.
    Query,
    /// The resource the path names belongs to a store (an order): another store's is `404`.
    Resource,
}

/// One route's rule.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// The HTTP method, as axum routes it.
    pub method: &'static str,
    /// The route's template (as in `http::routes`).
    pub path: &'static str,
    /// What the caller needs.
    pub gate: Gate,
    /// Where the request names a store.
    pub store: StoreNamed,
}

const fn rule(method: &'static str, path: &'static str, gate: Gate, store: StoreNamed) -> Rule {
    Rule { method, path, gate, store }
}

const ADMIN: Gate = Gate::Guarded(&[Action::Admin]);
const STOCK: Gate = Gate::Guarded(&[Action::StockWrite, Action::Admin]);
const KEYS: Gate = Gate::Guarded(&[Action::KeysManage]);
const NONE: StoreNamed = StoreNamed::Nowhere;

/// Every JSON route's rule (the admin pages keep their own cookie login).
pub const RULES: &[Rule] = &[
    rule("GET", "/healthz", Gate::Open, NONE),
    rule("GET", "/readyz", Gate::Open, NONE),
    rule("GET", "/openapi.json", Gate::Open, NONE),
    rule("GET", "/docs/", Gate::Open, NONE),
    rule("GET", "/metrics", Gate::Public(&[Action::MetricsRead]), NONE),
    rule("POST", "/orders/", Gate::Public(&[Action::OrdersCreate]), StoreNamed::Body),
    rule("GET", "/orders/{order_id}/", Gate::Public(&[Action::OrdersRead]), StoreNamed::Resource),
    rule("POST", "/orders/{order_id}/cancel/", Gate::Public(&[Action::OrdersCancel]), StoreNamed::Resource),
    rule("POST", "/reservations/", Gate::Public(&[Action::ReservationsWrite]), StoreNamed::Body),
    rule("GET", "/reservations/{reservation_id}/", Gate::Public(&[Action::ReservationsWrite]), StoreNamed::Resource),
    rule("DELETE", "/reservations/{reservation_id}/", Gate::Public(&[Action::ReservationsWrite]), StoreNamed::Resource),
    rule("GET", "/stores/{store_id}/orders/", Gate::Public(&[Action::StoresRead]), StoreNamed::Path),
    rule("GET", "/stores/{store_id}/inventory/", Gate::Public(&[Action::StoresRead]), StoreNamed::Path),
    rule("GET", "/api/search/products/", Gate::Public(&[Action::Search]), StoreNamed::Query),
    rule("GET", "/api/search/suggest/", Gate::Public(&[Action::Search]), NONE),
    rule("POST", "/api/admin/login/", Gate::Open, NONE),
    rule("POST", "/api/admin/logout/", ADMIN, NONE),
    rule("GET", "/api/admin/categories/", ADMIN, NONE),
    rule("POST", "/api/admin/categories/", ADMIN, NONE),
    rule("GET", "/api/admin/categories/{id}/", ADMIN, NONE),
    rule("PUT", "/api/admin/categories/{id}/", ADMIN, NONE),
    rule("DELETE", "/api/admin/categories/{id}/", ADMIN, NONE),
    rule("GET", "/api/admin/products/", ADMIN, NONE),
    rule("POST", "/api/admin/products/", ADMIN, NONE),
    rule("GET", "/api/admin/products/{id}/", ADMIN, NONE),
    rule("PUT", "/api/admin/products/{id}/", ADMIN, NONE),
    rule("DELETE", "/api/admin/products/{id}/", ADMIN, NONE),
    rule("GET", "/api/admin/stores/", ADMIN, NONE),
    rule("POST", "/api/admin/stores/", ADMIN, NONE),
    rule("GET", "/api/admin/stores/{id}/", ADMIN, NONE),
    rule("PUT", "/api/admin/stores/{id}/", ADMIN, NONE),
    rule("DELETE", "/api/admin/stores/{id}/", ADMIN, NONE),
    rule("PUT", "/api/admin/stores/{store_id}/inventory/{product_id}/", STOCK, NONE),
    rule("POST", "/api/admin/stores/{store_id}/inventory/{product_id}/adjust/", STOCK, NONE),
    rule("POST", "/api/admin/stores/{store_id}/inventory/{product_id}/restock/", STOCK, NONE),
    rule("GET", "/api/admin/stores/{store_id}/inventory/{product_id}/movements/", STOCK, NONE),
    rule("POST", "/api/admin/stock/bulk/", STOCK, NONE),
    rule("GET", "/api/admin/orders/", ADMIN, NONE),
    rule("POST", "/api/admin/orders/{order_id}/cancel/", ADMIN, NONE),
    rule("GET", "/api/admin/synonyms/", ADMIN, NONE),
    rule("GET", "/api/admin/synonyms/{name}/", ADMIN, NONE),
    rule("PUT", "/api/admin/synonyms/{name}/", ADMIN, NONE),
    rule("DELETE", "/api/admin/synonyms/{name}/", ADMIN, NONE),
    rule("GET", "/api/admin/search-rules/", ADMIN, NONE),
    rule("GET", "/api/admin/search-rules/{name}/", ADMIN, NONE),
    rule("PUT", "/api/admin/search-rules/{name}/", ADMIN, NONE),
    rule("DELETE", "/api/admin/search-rules/{name}/", ADMIN, NONE),
    rule("GET", "/api/admin/search-analytics/", ADMIN, NONE),
    rule("GET", "/api/keys/", KEYS, NONE),
    rule("POST", "/api/keys/", KEYS, NONE),
    rule("GET", "/api/keys/{id}/", KEYS, NONE),
    rule("PATCH", "/api/keys/{id}/", KEYS, NONE),
    rule("DELETE", "/api/keys/{id}/", KEYS, NONE),
];

/// The rule of `method` on `path`, if the table has one.
pub fn rule_for(method: &Method, path: &str) -> Option<Rule> {
    RULES.iter().find(|rule| rule.method == method.as_str() && rule.path == path).copied()
}

/// The state [`enforce`] runs with: the app and the route's gate (behind an `Arc`, so handing
/// it to each request is one reference count, not a clone of every handle in the state).
pub(super) struct Enforced {
    pub(super) state: AppState,
    pub(super) gate: Gate,
}

/// Decides a request's access before its handler runs, and hands the handler its [`Caller`].
/// On a read replica a permitted write is then answered `307` to the primary (contract: the
/// replica checks credentials first).
pub(super) async fn enforce(State(enforced): State<Arc<Enforced>>, mut request: Request, next: Next) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |ConnectInfo(address)| address.ip());
    let caller = match admit(&enforced.state, enforced.gate, request.headers(), peer).await {
        Ok(caller) => caller,
        Err(error) => return error.into_response(),
    };
    if let Some(replica) = &enforced.state.replica
        && !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS)
    {
        let path_and_query = request.uri().path_and_query().map_or("/", |target| target.as_str());
        return Redirect::temporary(&replica.primary().location_of(path_and_query)).into_response();
    }
    request.extensions_mut().insert(caller);
    next.run(request).await
}

async fn admit(state: &AppState, gate: Gate, headers: &HeaderMap, peer: IpAddr) -> Result<Caller> {
    let access = &state.access;
    let actions = match gate {
        Gate::Open => return Ok(Caller::Anonymous),
        Gate::Public(_) if !access.is_keyed() => {
            access.admit_anonymous(peer).map_err(|retry_after| Error::RateLimited { retry_after })?;
            return Ok(Caller::Anonymous);
        }
        Gate::Public(actions) | Gate::Guarded(actions) => actions,
    };
    let Some(caller) = identify(state, headers).await? else {
        if access.is_keyed() {
            access.admit_anonymous(peer).map_err(|retry_after| Error::RateLimited { retry_after })?;
        }
        return Err(unauthorized(access.is_keyed(), gate));
    };
    if !actions.iter().any(|action| caller.allows(*action)) {
        let names: Vec<&str> = actions.iter().map(|action| action.as_str()).collect();
        return Err(Error::Forbidden(format!(
            "this API key lacks the action this route needs ({})",
            names.join(" or ")
        )));
    }
    caller.admit().map_err(|retry_after| Error::RateLimited { retry_after })?;
    Ok(caller)
}

/// The caller a request's `Authorization: Bearer …` names, if it is valid. In open mode only
/// admin tokens count (API keys are checked once a master key is set).
async fn identify(state: &AppState, headers: &HeaderMap) -> Result<Option<Caller>> {
    let Some(presented) = bearer(headers) else { return Ok(None) };
    let access = &state.access;
    if access.is_keyed() {
        if access.is_master(presented) {
            return Ok(Some(Caller::Master));
        }
        if let Some(secret) = ApiKeySecret::parse(presented) {
            return Ok(access.key(&secret).map(Caller::Key));
        }
    }
    match SessionToken::parse(presented) {
        Some(token) => match super::admin::auth::authenticate(state, Some(token)).await {
            Ok(session) => Ok(Some(Caller::Admin(session))),
            Err(Error::Unauthorized(_)) => Ok(None),
            Err(other) => Err(other),
        },
        None => Ok(None),
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, credential) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| credential.trim())
}

fn unauthorized(keyed: bool, gate: Gate) -> Error {
    let detail = match (keyed, gate) {
        (false, _) => "a valid admin token is required (Authorization: Bearer <token>)",
        (true, Gate::Guarded(_)) => {
            "a valid credential is required (Authorization: Bearer <master key, API key or admin token>)"
        }
        (true, _) => "a valid API key is required (Authorization: Bearer <API key>)",
    };
    Error::Unauthorized(detail.to_owned())
}

/// A handler's caller, as the gate found it.
impl FromRequestParts<AppState> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| Error::Invariant(format!("{} has no access rule", parts.uri.path())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_has_exactly_one_rule_and_every_rule_a_route() {
        let routes = crate::http::routes();
        for route in &routes {
            let matching =
                RULES.iter().filter(|rule| rule.method == route.method.as_str() && rule.path == route.path).count();
            assert_eq!(matching, 1, "{} {} needs exactly one rule in RULES", route.method, route.path);
        }
        for rule in RULES {
            assert!(
                routes.iter().any(|route| route.method.as_str() == rule.method && route.path == rule.path),
                "{} {} has a rule but no route",
                rule.method,
                rule.path
            );
        }
    }

    #[test]
    fn store_bearing_routes_are_public_and_the_admin_and_key_routes_guarded() {
        for rule in RULES {
            if rule.store != StoreNamed::Nowhere {
                assert!(matches!(rule.gate, Gate::Public(_)), "{} {}", rule.method, rule.path);
            }
            if rule.path.starts_with("/api/keys/")
                || (rule.path.starts_with("/api/admin/") && rule.path != "/api/admin/login/")
            {
                assert!(matches!(rule.gate, Gate::Guarded(_)), "{} {} must be guarded", rule.method, rule.path);
            }
        }
    }
}
