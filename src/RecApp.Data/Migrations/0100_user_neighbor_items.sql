-- Engine, version 100: each user's neighborhood also stores the items those neighbors favour (Σ similarity ×
-- weight), precomputed by the similarities job so scoring the user-kNN source needs no per-request query.
ALTER TABLE user_neighbors
    ADD COLUMN item_ids    bigint[] NOT NULL DEFAULT '{}',
    ADD COLUMN item_scores real[]   NOT NULL DEFAULT '{}';
