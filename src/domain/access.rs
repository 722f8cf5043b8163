//! Who may do what: the actions a credential can carry, API key secrets, the master key, and the
//! one parser of a key's fields (`POST`/`PATCH /api/keys/`, the `aforro keys` CLI and the admin
//! page share it).

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::domain::{FieldError, StoreId, Timestamp};
use crate::error::{Error, Result};

/// What a credential may do: one per family of routes (contract, Access, "Actions").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// Product search and suggest.
    Search,
    /// A store's order and inventory listings.
    StoresRead,
    /// `POST /orders/`.
    OrdersCreate,
    /// `GET /orders/<id>/`.
    OrdersRead,
    /// `POST /orders/<id>/cancel/`.
    OrdersCancel,
    /// Create, read and release reservations.
    ReservationsWrite,
    /// The admin inventory routes, movements, bulk and CSV import.
    StockWrite,
    /// `GET /metrics`.
    MetricsRead,
    /// The `/api/keys/` routes.
    KeysManage,
    /// Every `/api/admin/` route.
    Admin,
    /// Everything.
    All,
}

impl Action {
    /// Every action, in the contract's order.
    pub const EVERY: [Action; 11] = [
        Self::Search,
        Self::StoresRead,
        Self::OrdersCreate,
        Self::OrdersRead,
        Self::OrdersCancel,
        Self::ReservationsWrite,
        Self::StockWrite,
        Self::MetricsRead,
        Self::KeysManage,
        Self::Admin,
        Self::All,
    ];

    /// The contract's name (`orders.create`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Search => "search",
            Self::StoresRead => "stores.read",
            Self::OrdersCreate => "orders.create",
            Self::OrdersRead => "orders.read",
            Self::OrdersCancel => "orders.cancel",
            Self::ReservationsWrite => "reservations.write",
            Self::StockWrite => "stock.write",
            Self::MetricsRead => "metrics.read",
            Self::KeysManage => "keys.manage",
            Self::Admin => "admin",
            Self::All => "*",
        }
    }

    /// The action named `text`, if any (`orders.*` is not a name: list the three).
    pub fn parse(text: &str) -> Option<Self> {
        Self::EVERY.into_iter().find(|action| action.as_str() == text)
    }

    /// Whether a key holding only such actions may be limited to some stores (contract,
    /// Access, "Store scope"): the routes of these actions name one store each.
    fn is_store_scopable(self) -> bool {
        matches!(
            self,
            Self::Search
                | Self::StoresRead
                | Self::OrdersCreate
                | Self::OrdersRead
                | Self::OrdersCancel
                | Self::ReservationsWrite
        )
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of actions, as a key holds them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actions(BTreeSet<Action>);

impl Actions {
    /// Everything (`*`): what the master key and an admin token hold.
    pub fn all() -> Self {
        Self(BTreeSet::from([Action::All]))
    }

    /// The set of `actions`.
    pub fn of(actions: impl IntoIterator<Item = Action>) -> Self {
        Self(actions.into_iter().collect())
    }

    /// Whether this set allows `action` (`*` allows everything).
    pub fn allows(&self, action: Action) -> bool {
        self.0.contains(&Action::All) || self.0.contains(&action)
    }

    /// Whether every action of `other` is allowed by this set: a key may create only keys
    /// narrower than itself.
    pub fn covers(&self, other: &Actions) -> bool {
        other.0.iter().all(|action| self.allows(*action))
    }

    /// The names, sorted in the contract's order.
    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|action| action.as_str()).collect()
    }

    fn all_store_scopable(&self) -> bool {
        self.0.iter().all(|action| action.is_store_scopable())
    }

    /// Parses stored names (the `actions` column); unknown names are an invariant breach.
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self> {
        names
            .into_iter()
            .map(|name| {
                Action::parse(name).ok_or_else(|| Error::Invariant(format!("stored action {name:?} is unknown")))
            })
            .collect::<Result<BTreeSet<_>>>()
            .map(Self)
    }
}

impl Serialize for Actions {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_seq(self.names())
    }
}

/// The stores a credential may name: every store, or only these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreScope {
    /// No store limit (the master key, an admin, a key with `store_ids: null`).
    Every,
    /// Only these stores (a key with `store_ids`).
    Only(BTreeSet<StoreId>),
}

impl StoreScope {
    /// Whether a request may name `store`.
    pub fn allows(&self, store: StoreId) -> bool {
        match self {
            Self::Every => true,
            Self::Only(stores) => stores.contains(&store),
        }
    }

    /// Whether every store `other` allows, this one does too.
    pub fn covers(&self, other: &StoreScope) -> bool {
        match (self, other) {
            (Self::Every, _) => true,
            (Self::Only(_), Self::Every) => false,
            (Self::Only(mine), Self::Only(theirs)) => theirs.is_subset(mine),
        }
    }

    /// The `store_ids` member: `null` or the sorted list.
    pub fn to_json(&self) -> Value {
        match self {
            Self::Every => Value::Null,
            Self::Only(stores) => stores.iter().map(|store| Value::from(store.0)).collect(),
        }
    }
}

/// A key's token bucket: `per_second` tokens refill it, up to `burst`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RateLimit {
    /// Refill per second, 1..=100000.
    pub per_second: u32,
    /// Bucket size, 1..=1000000.
    pub burst: u32,
}

const MAX_PER_SECOND: u32 = 100_000;
const MAX_BURST: u32 = 1_000_000;
const MAX_KEY_NAME_CHARS: usize = 100;
const MAX_KEY_DESCRIPTION_CHARS: usize = 1_000;

/// A new key's fields, parsed (`POST /api/keys/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    /// Who it is for (`storefront`).
    pub name: String,
    /// Free text.
    pub description: String,
    /// What it may do; never empty.
    pub actions: Actions,
    /// Which stores it may name.
    pub stores: StoreScope,
    /// Refused from this instant on; `None` never expires.
    pub expires_at: Option<Timestamp>,
    /// Its token bucket, if limited.
    pub rate_limit: Option<RateLimit>,
}

/// A change to a key (`PATCH /api/keys/<id>/`, a JSON merge patch): a member absent keeps the
/// field, `null` clears a nullable one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiKeyPatch {
    /// A new name.
    pub name: Option<String>,
    /// A new description.
    pub description: Option<String>,
    /// `Some(None)` clears the expiry.
    pub expires_at: Option<Option<Timestamp>>,
    /// `Some(None)` removes the limit.
    pub rate_limit: Option<Option<RateLimit>>,
}

impl NewApiKey {
    /// Parses a `POST /api/keys/` body, naming every bad field at once.
    pub fn parse(body: &Value, now: Timestamp) -> Result<Self> {
        let object = as_object(body)?;
        let mut errors = Vec::new();
        reject_unknown(
            object,
            &["name", "description", "actions", "store_ids", "expires_at", "rate_limit"],
            &mut errors,
        );
        let name = required_text(object, "name", MAX_KEY_NAME_CHARS, &mut errors);
        let description =
            optional_text(object, "description", MAX_KEY_DESCRIPTION_CHARS, &mut errors).unwrap_or_default();
        let actions = parse_actions(object.get("actions"), &mut errors);
        let stores = parse_store_ids(object.get("store_ids"), &mut errors);
        if let (Some(actions), Some(StoreScope::Only(_))) = (&actions, &stores)
            && !actions.all_store_scopable()
        {
            errors.push(FieldError::new(
                "store_ids",
                "only keys whose actions are among search, stores.read, orders.* and reservations.write may be limited to stores",
            ));
        }
        let expires_at = parse_expiry(object.get("expires_at"), now, &mut errors).flatten();
        let rate_limit = parse_rate_limit(object.get("rate_limit"), &mut errors).flatten();
        match (name, actions, stores) {
            (Some(name), Some(actions), Some(stores)) if errors.is_empty() => {
                Ok(Self { name, description, actions, stores, expires_at, rate_limit })
            }
            _ => Err(Error::Validation(errors)),
        }
    }
}

impl ApiKeyPatch {
    /// Parses a `PATCH /api/keys/<id>/` body; `actions` or `store_ids` in it are `400` (a key's
    /// reach never changes: make a new key).
    pub fn parse(body: &Value, now: Timestamp) -> Result<Self> {
        let object = as_object(body)?;
        let mut errors = Vec::new();
        for fixed in ["actions", "store_ids"] {
            if object.contains_key(fixed) {
                errors.push(FieldError::new(fixed, "cannot be changed: create a new key and revoke this one"));
            }
        }
        reject_unknown(
            object,
            &["name", "description", "expires_at", "rate_limit", "actions", "store_ids"],
            &mut errors,
        );
        let mut patch = Self::default();
        if object.contains_key("name") {
            patch.name = required_text(object, "name", MAX_KEY_NAME_CHARS, &mut errors);
        }
        if object.contains_key("description") {
            patch.description =
                Some(optional_text(object, "description", MAX_KEY_DESCRIPTION_CHARS, &mut errors).unwrap_or_default());
        }
        if object.contains_key("expires_at") {
            patch.expires_at = parse_expiry(object.get("expires_at"), now, &mut errors);
        }
        if object.contains_key("rate_limit") {
            patch.rate_limit = parse_rate_limit(object.get("rate_limit"), &mut errors);
        }
        if errors.is_empty() { Ok(patch) } else { Err(Error::Validation(errors)) }
    }
}

fn as_object(body: &Value) -> Result<&Map<String, Value>> {
    body.as_object().ok_or_else(|| Error::field("body", "must be a JSON object"))
}

fn reject_unknown(object: &Map<String, Value>, known: &[&str], errors: &mut Vec<FieldError>) {
    for member in object.keys().filter(|member| !known.contains(&member.as_str())) {
        errors.push(FieldError::new(member.clone(), "is not a field of an API key"));
    }
}

fn has_control_characters(text: &str) -> bool {
    text.chars().any(|c| c.is_ascii_control())
}

fn required_text(
    object: &Map<String, Value>,
    field: &str,
    max_chars: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    match object.get(field).and_then(Value::as_str).map(str::trim) {
        Some(text) if text.is_empty() || text.chars().count() > max_chars => {
            errors.push(FieldError::new(field, format!("must be 1 to {max_chars} characters")));
            None
        }
        Some(text) if has_control_characters(text) => {
            errors.push(FieldError::new(field, "must not contain control characters"));
            None
        }
        Some(text) => Some(text.to_owned()),
        None => {
            errors.push(FieldError::new(field, "is required and must be a string"));
            None
        }
    }
}

fn optional_text(
    object: &Map<String, Value>,
    field: &str,
    max_chars: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    match object.get(field) {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) if text.chars().count() > max_chars => {
            errors.push(FieldError::new(field, format!("must be at most {max_chars} characters")));
            None
        }
        Some(Value::String(text)) if text.chars().any(|c| c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r')) => {
            errors.push(FieldError::new(field, "must not contain control characters other than tab, LF and CR"));
            None
        }
        Some(Value::String(text)) => Some(text.clone()),
        Some(_) => {
            errors.push(FieldError::new(field, "must be a string"));
            None
        }
    }
}

fn parse_actions(value: Option<&Value>, errors: &mut Vec<FieldError>) -> Option<Actions> {
    let Some(items) = value.and_then(Value::as_array) else {
        errors.push(FieldError::new("actions", "is required and must be a list of action names"));
        return None;
    };
    if items.is_empty() {
        errors.push(FieldError::new("actions", "must name at least one action"));
        return None;
    }
    let mut actions = BTreeSet::new();
    let before = errors.len();
    for (index, item) in items.iter().enumerate() {
        match item.as_str().and_then(Action::parse) {
            Some(action) => {
                actions.insert(action);
            }
            None => errors.push(FieldError::new(
                format!("actions[{index}]"),
                format!(
                    "must be one of {}",
                    Action::EVERY.iter().map(|action| action.as_str()).collect::<Vec<_>>().join(", ")
                ),
            )),
        }
    }
    (errors.len() == before).then_some(Actions(actions))
}

fn parse_store_ids(value: Option<&Value>, errors: &mut Vec<FieldError>) -> Option<StoreScope> {
    let items = match value {
        None | Some(Value::Null) => return Some(StoreScope::Every),
        Some(Value::Array(items)) if !items.is_empty() && items.len() <= 1_000 => items,
        Some(_) => {
            errors.push(FieldError::new("store_ids", "must be null or a list of 1 to 1000 store ids"));
            return None;
        }
    };
    let mut stores = BTreeSet::new();
    let before = errors.len();
    for (index, item) in items.iter().enumerate() {
        match item.as_i64().filter(|id| *id > 0) {
            Some(id) => {
                stores.insert(StoreId(id));
            }
            None => errors.push(FieldError::new(format!("store_ids[{index}]"), "must be a positive integer")),
        }
    }
    (errors.len() == before).then_some(StoreScope::Only(stores))
}

/// `Some(None)` for an explicit `null`, `None` when invalid (the error is recorded).
fn parse_expiry(value: Option<&Value>, now: Timestamp, errors: &mut Vec<FieldError>) -> Option<Option<Timestamp>> {
    match value {
        None | Some(Value::Null) => Some(None),
        Some(Value::String(text)) => match Timestamp::parse_rfc3339(text) {
            Some(at) if at > now => Some(Some(at)),
            Some(_) => {
                errors.push(FieldError::new("expires_at", "must be in the future"));
                None
            }
            None => {
                errors.push(FieldError::new("expires_at", "must be an RFC 3339 timestamp, e.g. 2027-01-31T00:00:00Z"));
                None
            }
        },
        Some(_) => {
            errors.push(FieldError::new("expires_at", "must be null or an RFC 3339 timestamp"));
            None
        }
    }
}

fn parse_rate_limit(value: Option<&Value>, errors: &mut Vec<FieldError>) -> Option<Option<RateLimit>> {
    let object = match value {
        None | Some(Value::Null) => return Some(None),
        Some(Value::Object(object)) => object,
        Some(_) => {
            errors.push(FieldError::new("rate_limit", "must be null or {\"per_second\": n, \"burst\": m}"));
            return None;
        }
    };
    let member = |name: &str, max: u32, errors: &mut Vec<FieldError>| {
        let parsed = object
            .get(name)
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| (1..=max).contains(n));
        if parsed.is_none() {
            errors.push(FieldError::new(format!("rate_limit.{name}"), format!("must be an integer from 1 to {max}")));
        }
        parsed
    };
    let per_second = member("per_second", MAX_PER_SECOND, errors);
    let burst = member("burst", MAX_BURST, errors);
    for unknown in object.keys().filter(|name| !matches!(name.as_str(), "per_second" | "burst")) {
        errors.push(FieldError::new(format!("rate_limit.{unknown}"), "is not a field of a rate limit"));
    }
    match (per_second, burst) {
        (Some(per_second), Some(burst)) => Some(Some(RateLimit { per_second, burst })),
        _ => None,
    }
}

/// An API key's secret as the client holds it: `ak_` + 43 base64url characters (256 random
/// bits). Shown once at creation, never stored, never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeySecret(String);

impl fmt::Debug for ApiKeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKeySecret(..)")
    }
}

/// Characters of a secret shown in listings to tell keys apart (`ak_` and 9 more).
pub const KEY_PREFIX_CHARS: usize = 12;

impl ApiKeySecret {
    /// A fresh secret from the thread-local CSPRNG.
    pub fn generate() -> Self {
        use base64::Engine;
        let bits: [u8; 32] = rand::random();
        Self(format!("ak_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bits)))
    }

    /// A secret as presented; `None` when it cannot be one (so nothing is hashed for it).
    pub fn parse(text: &str) -> Option<Self> {
        let body = text.strip_prefix("ak_")?;
        (body.len() == 43 && body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
            .then(|| Self(text.to_owned()))
    }

    /// The secret itself, for the one answer that shows it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first characters, kept to tell keys apart in listings.
    pub fn prefix(&self) -> String {
        self.0.chars().take(KEY_PREFIX_CHARS).collect()
    }

    /// What the store keeps instead of the secret: SHA-256 (a 256-bit random secret needs no
    /// slow hash: there is nothing to guess).
    pub fn sha256(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }
}

/// The master key (`--master-key`): may do everything; compared in constant time.
#[derive(Clone)]
pub struct MasterKey(Vec<u8>);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

/// Shortest master key accepted.
pub const MIN_MASTER_KEY_BYTES: usize = 16;

impl MasterKey {
    /// `text` as a master key, if long enough (at least 16 bytes).
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        if text.len() < MIN_MASTER_KEY_BYTES {
            return Err(format!(
                "the master key must be at least {MIN_MASTER_KEY_BYTES} bytes (e.g. `openssl rand -base64 32`)"
            ));
        }
        Ok(Self(text.as_bytes().to_vec()))
    }

    /// Whether `presented` is this key, in time independent of where they differ.
    pub fn matches(&self, presented: &[u8]) -> bool {
        // Compare digests: equal-length inputs, so the time does not reveal the key's length.
        let ours = Sha256::digest(&self.0);
        let theirs = Sha256::digest(presented);
        ours.iter().zip(theirs.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn now() -> Timestamp {
        Timestamp::parse_rfc3339("2026-12-01T00:00:00Z").expect("a valid instant")
    }

    #[test]
    fn a_secret_is_ak_and_256_bits_of_base64url_and_parses_back() {
        let secret = ApiKeySecret::generate();
        assert!(secret.as_str().starts_with("ak_"));
        assert_eq!(secret.as_str().len(), 3 + 43);
        assert_eq!(ApiKeySecret::parse(secret.as_str()), Some(secret.clone()));
        assert_ne!(ApiKeySecret::generate(), secret);
        assert_eq!(secret.prefix().len(), KEY_PREFIX_CHARS);
        assert_eq!(ApiKeySecret::parse("ak_short"), None);
        assert_eq!(secret.sha256().to_vec(), Sha256::digest(secret.as_str().as_bytes()).to_vec());
    }

    #[test]
    fn a_new_key_names_every_bad_field() {
        let body = json!({"name": "", "actions": ["search", "fly"], "store_ids": [0], "expires_at": "2020-01-01T00:00:00Z",
            "rate_limit": {"per_second": 0, "burst": 5}});
        let Err(Error::Validation(errors)) = NewApiKey::parse(&body, now()) else { panic!("must be refused") };
        let fields: Vec<&str> = errors.iter().map(|error| error.field.as_str()).collect();
        assert_eq!(fields, ["name", "actions[1]", "store_ids[0]", "expires_at", "rate_limit.per_second"]);
    }

    #[test]
    fn store_ids_are_only_for_store_scopable_actions() {
        let scoped = json!({"name": "till", "actions": ["orders.create", "stores.read"], "store_ids": [2, 1]});
        let key = NewApiKey::parse(&scoped, now()).expect("a till key is store-scopable");
        assert_eq!(key.stores.to_json(), json!([1, 2]));
        let stock = json!({"name": "erp", "actions": ["stock.write"], "store_ids": [1]});
        assert!(NewApiKey::parse(&stock, now()).is_err());
    }

    #[test]
    fn expiry_accepts_any_offset_and_must_be_future() {
        let body = json!({"name": "k", "actions": ["*"], "expires_at": "2026-12-01T02:00:00+02:00"});
        assert!(NewApiKey::parse(&body, now()).is_err(), "02:00+02:00 is midnight UTC: not in the future");
        let body = json!({"name": "k", "actions": ["*"], "expires_at": "2026-12-01T03:00:00+02:00"});
        let key = NewApiKey::parse(&body, now()).expect("an hour ahead");
        assert_eq!(key.expires_at.map(Timestamp::to_rfc3339).as_deref(), Some("2026-12-01T01:00:00.000000Z"));
    }

    #[test]
    fn a_patch_refuses_actions_and_store_ids() {
        assert!(ApiKeyPatch::parse(&json!({"actions": ["*"]}), now()).is_err());
        let patch = ApiKeyPatch::parse(&json!({"name": "new", "rate_limit": null}), now()).expect("valid");
        assert_eq!(patch.name.as_deref(), Some("new"));
        assert_eq!(patch.rate_limit, Some(None));
        assert_eq!(patch.expires_at, None);
    }

    #[test]
    fn narrower_means_within_actions_and_stores() {
        let wide = Actions::of([Action::KeysManage, Action::Search]);
        assert!(wide.covers(&Actions::of([Action::Search])));
        assert!(!wide.covers(&Actions::of([Action::Admin])));
        assert!(Actions::all().covers(&Actions::of([Action::Admin])));
        let one = StoreScope::Only(BTreeSet::from([StoreId(1)]));
        assert!(StoreScope::Every.covers(&one));
        assert!(!one.covers(&StoreScope::Every));
    }

    #[test]
    fn the_master_key_matches_only_itself_and_is_at_least_16_bytes() {
        assert!(MasterKey::parse("short").is_err());
        let master = MasterKey::parse("0123456789abcdef").expect("16 bytes");
        assert!(master.matches(b"0123456789abcdef"));
        assert!(!master.matches(b"0123456789abcdeg"));
        assert!(!master.matches(b"0123456789abcdef0"));
    }
}
