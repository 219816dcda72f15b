-- Studio lifecycle configs (immutable scripts for apps of one type) and apps (what a user
-- profile or a space runs: a launch, resolved against the catalog when it happens, and a
-- record kept for a while once deleted or failed). Domains say whether they have a home
-- EFS file system.

ALTER TABLE domains ADD COLUMN home_efs_creation TEXT NOT NULL DEFAULT 'Enabled';

CREATE TABLE studio_lifecycle_configs (
    id {autoid},
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    content TEXT NOT NULL,
    app_type TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    modified_ms BIGINT NOT NULL
);
CREATE UNIQUE INDEX studio_lifecycle_configs_name
    ON studio_lifecycle_configs (account, region, name_key);
CREATE INDEX studio_lifecycle_configs_created
    ON studio_lifecycle_configs (account, region, created_ms, name_key);

CREATE TABLE apps (
    id {autoid},
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    user_profile_name TEXT,
    space_name TEXT,
    owner TEXT NOT NULL,
    owner_key TEXT NOT NULL,
    app_type TEXT NOT NULL,
    type_key TEXT NOT NULL,
    name TEXT NOT NULL,
    resource_spec TEXT NOT NULL,
    requested TEXT,
    recovery_mode INTEGER,
    built_in_lifecycle_config_arn TEXT,
    status TEXT NOT NULL,
    failure_reason TEXT,
    health_checked_ms BIGINT,
    last_active_ms BIGINT,
    runs_image TEXT,
    runs_version INTEGER,
    created_ms BIGINT NOT NULL,
    modified_ms BIGINT NOT NULL
);
-- One record a key: a Deleted or Failed app's is replaced by a new app of the same key.
CREATE UNIQUE INDEX apps_key ON apps (account, region, domain_id, owner_key, type_key, name);
CREATE INDEX apps_created ON apps (account, region, created_ms, domain_id, owner_key, type_key, name);
CREATE INDEX apps_image ON apps (account, region, runs_image, runs_version);

-- What the last `drift` check found: CREATED versions whose tag no longer leads to the
-- digest they were pinned to (kept for the web catalog; each check replaces the last's).
CREATE TABLE image_version_drift (
    image_id BIGINT NOT NULL,
    version INTEGER NOT NULL,
    pinned TEXT NOT NULL,
    current_digest TEXT,
    error TEXT,
    checked_ms BIGINT NOT NULL,
    PRIMARY KEY (image_id, version)
)
