//! The API keys' named writes: each is the table's function (`db::admin::api_keys`), which
//! records its history entry in the same savepoint.

use crate::db::admin::api_keys::{self, ApiKeyId, ApiKeyRecord};
use crate::db::admin::history::Actor;
use crate::db::records::Written;
use crate::db::writer::WriterHandle;
use crate::domain::Timestamp;
use crate::domain::access::{ApiKeyPatch, ApiKeySecret, NewApiKey};
use crate::error::Result;

/// The keys' named writes.
impl WriterHandle {
    /// [`api_keys::create`] through the writer.
    pub async fn create_api_key(&self, actor: Actor, key: NewApiKey) -> Result<(ApiKeyRecord, ApiKeySecret)> {
        self.write(move |conn| Ok(Written::quietly(api_keys::create(conn, &actor, &key)?))).await
    }

    /// [`api_keys::update`] through the writer.
    pub async fn update_api_key(&self, actor: Actor, id: ApiKeyId, patch: ApiKeyPatch) -> Result<ApiKeyRecord> {
        self.write(move |conn| Ok(Written::quietly(api_keys::update(conn, &actor, id, &patch)?))).await
    }

    /// [`api_keys::revoke`] through the writer.
    pub async fn revoke_api_key(&self, actor: Actor, id: ApiKeyId) -> Result<()> {
        self.write(move |conn| Ok(Written::quietly(api_keys::revoke(conn, &actor, id)?))).await
    }

    /// Stores the keys' last uses, all in one write.
    pub async fn record_api_key_uses(&self, uses: Vec<(ApiKeyId, Timestamp)>) -> Result<()> {
        self.write(move |conn| Ok(Written::quietly(api_keys::record_key_uses(conn, &uses)?))).await
    }
}
