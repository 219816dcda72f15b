-- AppImageConfigs and the tags of taggable resources.
-- A config's three app configurations are kept as the JSON the caller sent (validated
-- against the model), so Describe returns exactly what was stored.
-- Tags hang off a resource's row id, never its name: a deleted and re-created resource is a
-- new row and starts with no tags.

CREATE TABLE app_image_configs (
    id {autoid},
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    kernel_gateway TEXT,
    jupyter_lab TEXT,
    code_editor TEXT,
    created_ms BIGINT NOT NULL,
    modified_ms BIGINT NOT NULL
);
CREATE UNIQUE INDEX app_image_configs_name ON app_image_configs (account, region, name_key);
CREATE INDEX app_image_configs_created
    ON app_image_configs (account, region, created_ms, name_key);
CREATE INDEX app_image_configs_modified
    ON app_image_configs (account, region, modified_ms, name_key);

CREATE TABLE tags (
    resource_type TEXT NOT NULL,
    resource_id BIGINT NOT NULL,
    tag_key TEXT NOT NULL,
    tag_value TEXT NOT NULL,
    PRIMARY KEY (resource_type, resource_id, tag_key)
) {without_rowid};
