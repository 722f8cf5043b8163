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

-- Moves with every change to either table: a read replica (which sees the primary's writes
-- only through the database) polls it to know when to load the sets and rules again.
CREATE TABLE search_curation_generation (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL
);
INSERT INTO search_curation_generation (id, generation) VALUES (1, 0);
CREATE TRIGGER synonym_sets_inserted AFTER INSERT ON synonym_sets
BEGIN UPDATE search_curation_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER synonym_sets_updated AFTER UPDATE ON synonym_sets
BEGIN UPDATE search_curation_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER synonym_sets_deleted AFTER DELETE ON synonym_sets
BEGIN UPDATE search_curation_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER search_rules_inserted AFTER INSERT ON search_rules
BEGIN UPDATE search_curation_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER search_rules_updated AFTER UPDATE ON search_rules
BEGIN UPDATE search_curation_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER search_rules_deleted AFTER DELETE ON search_rules
BEGIN UPDATE search_curation_generation SET generation = generation + 1 WHERE id = 1; END;
