-- The embedding candidate source (issue 9): one implicit-feedback (iALS) vector per item and model version.
-- The settings the vectors were fitted with are the version's model_versions.details.
CREATE TABLE item_embeddings (
    version  bigint NOT NULL,
    item_id  bigint NOT NULL,
    vector   real[] NOT NULL,
    PRIMARY KEY (version, item_id)
);
