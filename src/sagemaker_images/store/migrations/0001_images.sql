-- Images, their versions, aliases, CreateImageVersion client tokens, and durable jobs.
-- Times are epoch milliseconds. Names are unique per (account, region), case-insensitively:
-- name_key is the lower-cased name, name is the caller's spelling. Tables read by their
-- primary key are clustered on it where the database can ({without_rowid}).

CREATE TABLE images (
    id {autoid},
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    description TEXT,
    display_name TEXT,
    role_arn TEXT NOT NULL,
    status TEXT NOT NULL,
    failure_reason TEXT,
    created_ms BIGINT NOT NULL,
    modified_ms BIGINT NOT NULL,
    last_version INTEGER NOT NULL DEFAULT 0,
    version_count INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX images_name ON images (account, region, name_key);
CREATE INDEX images_created ON images (account, region, created_ms, name_key);
CREATE INDEX images_modified ON images (account, region, modified_ms, name_key);

CREATE TABLE image_versions (
    image_id BIGINT NOT NULL REFERENCES images (id),
    version INTEGER NOT NULL,
    base_image TEXT NOT NULL,
    container_image TEXT,
    status TEXT NOT NULL,
    failure_reason TEXT,
    vendor_guidance TEXT,
    job_type TEXT,
    ml_framework TEXT,
    programming_lang TEXT,
    processor TEXT,
    horovod SMALLINT,
    release_notes TEXT,
    created_ms BIGINT NOT NULL,
    modified_ms BIGINT NOT NULL,
    PRIMARY KEY (image_id, version)
) {without_rowid};
-- Listing indexes cover a listed row, so a page of a hundred is read from the index alone.
CREATE INDEX image_versions_created
    ON image_versions (image_id, created_ms, version, modified_ms, status, failure_reason);
CREATE INDEX image_versions_modified
    ON image_versions (image_id, modified_ms, version, created_ms, status, failure_reason);

CREATE TABLE image_version_aliases (
    image_id BIGINT NOT NULL,
    alias TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (image_id, alias),
    FOREIGN KEY (image_id, version) REFERENCES image_versions (image_id, version)
) {without_rowid};
CREATE INDEX image_version_aliases_version ON image_version_aliases (image_id, version, alias);

CREATE TABLE client_tokens (
    image_id BIGINT NOT NULL,
    token TEXT NOT NULL,
    request_digest TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (image_id, token)
) {without_rowid};

CREATE TABLE jobs (
    id {autoid},
    kind TEXT NOT NULL,
    image_id BIGINT NOT NULL,
    version INTEGER,
    due_ms BIGINT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until_ms BIGINT
);
CREATE INDEX jobs_due ON jobs (due_ms);
