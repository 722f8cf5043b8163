//! The access shapes as OpenAPI schemas (API keys), and [`AccessScheme`]: the bearer scheme
//! and the `401`/`403`/`429` answers every gated operation gets from `http::access::RULES`.
//!
//! Like [`super::schemas`], these types describe the wire format only: the handlers parse
//! bodies with `domain::access` and serialise `db::records::ApiKeyRecord`.

#![allow(dead_code)] // Fields are read by the schema derive, never by code.

use axum::http::Method;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, ToSchema};

use crate::http::access::{Gate, rule_for};

/// The name operations refer to in their `security` requirement.
pub const BEARER: &str = "bearer";

/// `rate_limit` of a key.
#[derive(ToSchema)]
#[schema(as = RateLimit)]
pub struct RateLimitDoc {
    #[schema(minimum = 1, maximum = 100000)]
    per_second: u32,
    #[schema(minimum = 1, maximum = 1000000)]
    burst: u32,
}

/// `POST /api/keys/` body.
#[derive(ToSchema)]
#[schema(as = NewApiKeyRequest)]
pub struct ApiKeyBody {
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001f\u007f]*[^\s\u0000-\u001f\u007f][^\u0000-\u001f\u007f]*$"
    )]
    name: String,
    #[schema(max_length = 1000)]
    description: Option<String>,
    /// `search`, `stores.read`, `orders.create`, `orders.read`, `orders.cancel`,
    /// `reservations.write`, `stock.write`, `metrics.read`, `keys.manage`, `admin`, `*`.
    #[schema(min_items = 1)]
    actions: Vec<ActionDoc>,
    /// Only with store-scopable actions (search, stores.read, orders.*, reservations.write).
    store_ids: Option<Vec<i64>>,
    /// In the future; any RFC 3339 offset.
    #[schema(format = DateTime)]
    expires_at: Option<String>,
    rate_limit: Option<RateLimitDoc>,
}

/// An action name.
#[derive(ToSchema)]
#[schema(as = Action)]
pub(crate) enum ActionDoc {
    #[schema(rename = "search")]
    Search,
    #[schema(rename = "stores.read")]
    StoresRead,
    #[schema(rename = "orders.create")]
    OrdersCreate,
    #[schema(rename = "orders.read")]
    OrdersRead,
    #[schema(rename = "orders.cancel")]
    OrdersCancel,
    #[schema(rename = "reservations.write")]
    ReservationsWrite,
    #[schema(rename = "stock.write")]
    StockWrite,
    #[schema(rename = "metrics.read")]
    MetricsRead,
    #[schema(rename = "keys.manage")]
    KeysManage,
    #[schema(rename = "admin")]
    Admin,
    #[schema(rename = "*")]
    All,
}

/// `PATCH /api/keys/<id>/` body: a JSON merge patch.
#[derive(ToSchema)]
#[schema(as = ApiKeyPatch)]
pub struct ApiKeyPatchBody {
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\u0000-\u001f\u007f]*[^\s\u0000-\u001f\u007f][^\u0000-\u001f\u007f]*$"
    )]
    name: Option<String>,
    #[schema(max_length = 1000)]
    description: Option<String>,
    #[schema(format = DateTime)]
    expires_at: Option<String>,
    rate_limit: Option<RateLimitDoc>,
}

/// An API key (never its secret).
#[derive(ToSchema)]
#[schema(as = ApiKey)]
pub struct ApiKeyDoc {
    id: i64,
    name: String,
    description: String,
    /// The secret's first 12 characters.
    prefix: String,
    actions: Vec<ActionDoc>,
    store_ids: Option<Vec<i64>>,
    #[schema(format = DateTime)]
    expires_at: Option<String>,
    rate_limit: Option<RateLimitDoc>,
    #[schema(format = DateTime)]
    created_at: String,
    /// May lag by up to 60 s.
    #[schema(format = DateTime)]
    last_used_at: Option<String>,
}

/// A new key: the key and, this once, its secret.
#[derive(ToSchema)]
#[schema(as = NewApiKey)]
pub struct NewApiKeyDoc {
    id: i64,
    name: String,
    description: String,
    prefix: String,
    actions: Vec<ActionDoc>,
    store_ids: Option<Vec<i64>>,
    #[schema(format = DateTime)]
    expires_at: Option<String>,
    rate_limit: Option<RateLimitDoc>,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    last_used_at: Option<String>,
    /// `ak_` + 43 base64url characters: shown only in this answer.
    #[schema(pattern = "^ak_[A-Za-z0-9_-]{43}$")]
    key: String,
}

/// A page of keys.
#[derive(ToSchema)]
#[schema(as = ApiKeyPage)]
pub struct ApiKeyPage {
    count: i64,
    #[schema(format = "uri")]
    next: Option<String>,
    #[schema(format = "uri")]
    previous: Option<String>,
    results: Vec<ApiKeyDoc>,
}

/// The bearer scheme, and on every gated operation its requirement and the answers the gate
/// gives (`401`, `403`, `429`), read from the same table the router enforces.
pub struct AccessScheme;

impl Modify for AccessScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some(
                "`Authorization: Bearer <master key | API key | admin token>`. In keyed mode (a master key \
                 is set) every operation but health, OpenAPI, docs and the admin login needs one; in open \
                 mode only the admin and key operations do (an admin token).",
            ))
            .build();
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(BEARER, SecurityScheme::Http(scheme));
        for (path, item) in &mut openapi.paths.paths {
            let operations = [
                (Method::GET, &mut item.get),
                (Method::POST, &mut item.post),
                (Method::PUT, &mut item.put),
                (Method::PATCH, &mut item.patch),
                (Method::DELETE, &mut item.delete),
            ];
            for (method, operation) in operations {
                let Some(operation) = operation else { continue };
                match rule_for(&method, path).map(|rule| rule.gate) {
                    Some(Gate::Public(_) | Gate::Guarded(_)) => gated(operation),
                    Some(Gate::Open) | None => {}
                }
            }
        }
    }
}

fn gated(operation: &mut Operation) {
    let requirement = SecurityRequirement::new(BEARER, Vec::<String>::new());
    operation.security.get_or_insert_with(Vec::new).push(requirement);
    let problem = || Content::new(Some(RefOr::Ref(Ref::from_schema_name("Problem"))));
    let answers = [
        ("401", "No valid credential (keyed mode; an admin token for admin and key operations)"),
        ("403", "The credential lacks this operation's action, or names a store outside its stores"),
        ("429", "The key's (or, without one, the address's) rate limit is spent; retry after `Retry-After` seconds"),
    ];
    for (status, description) in answers {
        operation.responses.responses.entry(status.to_owned()).or_insert_with(|| {
            RefOr::T(
                ResponseBuilder::new().description(description).content("application/problem+json", problem()).build(),
            )
        });
    }
}
