-- Admin accounts and their sessions (the admin API and the /admin/ page).
-- Never edit a migration that has been applied anywhere: add a new file instead.

-- Passwords are Argon2id PHC strings ("$argon2id$v=19$m=...$salt$hash"): the parameters travel
-- with the hash, so stronger settings later still verify old hashes.
CREATE TABLE admin_users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL CHECK (length(trim(username)) > 0),
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    CONSTRAINT admin_users_username_unique UNIQUE (username COLLATE NOCASE)
);

-- A session is an opaque 256-bit token the client holds; only its SHA-256 is stored, so a
-- copy of the database (a backup) holds no usable credential.
CREATE TABLE admin_sessions (
    token_sha256 BLOB    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES admin_users (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX admin_sessions_user ON admin_sessions (user_id);
CREATE INDEX admin_sessions_expiry ON admin_sessions (expires_at);
