//! An API key as the contract shows it (never its secret).

use serde::Serialize;

use crate::domain::Timestamp;
use crate::domain::access::{Actions, RateLimit, StoreScope};

/// An API key's primary key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ApiKeyId(pub i64);

/// A key as `GET /api/keys/<id>/` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// Its id (`key:<id>` in movements and the history).
    pub id: ApiKeyId,
    /// Who it is for.
    pub name: String,
    /// Free text.
    pub description: String,
    /// The secret's first 12 characters.
    pub prefix: String,
    /// What it may do.
    pub actions: Actions,
    /// Which stores it may name.
    pub stores: StoreScope,
    /// Refused from this instant on.
    pub expires_at: Option<Timestamp>,
    /// Its token bucket.
    pub rate_limit: Option<RateLimit>,
    /// When it was made.
    pub created_at: Timestamp,
    /// Its last use, as of the last flush (at most a minute behind).
    pub last_used_at: Option<Timestamp>,
}

impl Serialize for ApiKeyRecord {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(10))?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("name", &self.name)?;
        map.serialize_entry("description", &self.description)?;
        map.serialize_entry("prefix", &self.prefix)?;
        map.serialize_entry("actions", &self.actions)?;
        map.serialize_entry("store_ids", &self.stores.to_json())?;
        map.serialize_entry("expires_at", &self.expires_at)?;
        map.serialize_entry("rate_limit", &self.rate_limit)?;
        map.serialize_entry("created_at", &self.created_at)?;
        map.serialize_entry("last_used_at", &self.last_used_at)?;
        map.end()
    }
}

/// A key with its secret's SHA-256, as the server's key ring holds it.
pub type HashedKey = ([u8; 32], ApiKeyRecord);
