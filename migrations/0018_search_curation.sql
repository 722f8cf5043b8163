-- What a merchandiser steers search with (contract, "Search administration"): synonym sets and
-- search rules. Each row keeps its definition as the JSON the admin API answers (parsed again by
-- the one parser on load); the integer id is what the admin history (`admin_log.object_id`)
-- names, the name what the API and the pages do.
CREATE TABLE synonym_sets (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
    body       TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE search_rules (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
    body       TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);
