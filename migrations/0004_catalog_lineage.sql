-- The catalog watermark's version counts changes, so two databases (a restored backup, a copy
-- seeded with another seed, a database deleted and recreated) can reach the same version with
-- different catalogs. A random lineage, fixed when the database first migrates, tells them
-- apart: derived data (the search index) stamped with another lineage is rebuilt.
ALTER TABLE catalog_version ADD COLUMN lineage TEXT NOT NULL DEFAULT '';
UPDATE catalog_version SET lineage = lower(hex(randomblob(16))) WHERE id = 1;
