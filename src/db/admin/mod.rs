//! The admin's tables: accounts, sessions, the change history, and the admin's listing reads
//! (over every table, the outbox's jobs included). Stands on the records, the outbox and the
//! store.
//!
//! - [`accounts`]: creating an admin, finding one at login, the accounts page's rows.
//! - [`sessions`]: session tokens (stored as their SHA-256) and their expiry.
//! - [`api_keys`]: API keys (their secrets only as SHA-256) and the generation a server polls.
//! - [`curation`]: synonym sets and search rules (their definitions as JSON, by name).
//! - [`history`]: who changed which object when, recorded by every admin write.
//! - [`listing`]: what the admin API and the admin pages list and show.
//! - [`search_analytics`]: the searches counted per day and query, flushed from memory.
//!
//! Order within: `history` → `listing`, `history` → `api_keys`, `history` → `curation`; `accounts` and `sessions` import no sibling.

pub mod accounts;
pub mod api_keys;
pub mod curation;
pub mod history;
pub mod listing;
pub mod search_analytics;
pub mod sessions;
