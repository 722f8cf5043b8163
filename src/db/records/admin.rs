//! Who the admin records name: an account's id, below both the accounts and the change
//! history that is keyed by it.

/// An admin's id, as sessions and the change history refer to it.
pub type AdminId = i64;
