-- Studio domains, user profiles and spaces: the resources that attach custom images.
-- Their settings are kept as the JSON the caller sent (validated against the model) and
-- merged by updates. A domain is known by its DomainId (`d-` + 12 characters), unique per
-- account and region like its name; user profiles and spaces by their name within their
-- domain, compared case-insensitively.
-- Jobs now finish the transitions of these resources too: a job's subject is the row of
-- the table its kind names (an image's for image and version jobs).

ALTER TABLE jobs RENAME COLUMN image_id TO subject_id;
CREATE INDEX jobs_subject ON jobs (subject_id, kind);

CREATE TABLE domains (
    id {autoid},
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    auth_mode TEXT NOT NULL,
    default_user_settings TEXT NOT NULL,
    domain_settings TEXT,
    default_space_settings TEXT,
    subnet_ids TEXT,
    vpc_id TEXT,
    app_network_access_type TEXT NOT NULL,
    home_efs_kms_key_id TEXT,
    kms_key_id TEXT,
    app_security_group_management TEXT,
    tag_propagation TEXT NOT NULL,
    home_efs_file_system_id TEXT NOT NULL,
    url TEXT NOT NULL,
    sso_instance_id TEXT,
    sso_application_arn TEXT,
    boundary_security_group TEXT,
    status TEXT NOT NULL,
    failure_reason TEXT,
    created_ms BIGINT NOT NULL,
    modified_ms BIGINT NOT NULL,
    last_uid BIGINT NOT NULL
);
CREATE UNIQUE INDEX domains_id ON domains (account, region, domain_id);
CREATE UNIQUE INDEX domains_name ON domains (account, region, name_key);
CREATE INDEX domains_created ON domains (account, region, created_ms, domain_id);

CREATE TABLE user_profiles (
    id {autoid},
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    sso_user_identifier TEXT,
    sso_user_value TEXT,
    user_settings TEXT,
    home_efs_uid TEXT NOT NULL,
    status TEXT NOT NULL,
    failure_reason TEXT,
    created_ms BIGINT NOT NULL,
    modified_ms BIGINT NOT NULL
);
CREATE UNIQUE INDEX user_profiles_name ON user_profiles (account, region, domain_id, name_key);
CREATE INDEX user_profiles_created ON user_profiles (account, region, created_ms, domain_id, name_key);
CREATE INDEX user_profiles_modified ON user_profiles (account, region, modified_ms, domain_id, name_key);

CREATE TABLE spaces (
    id {autoid},
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    domain_id TEXT NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    space_settings TEXT,
    ownership_settings TEXT,
    space_sharing_settings TEXT,
    display_name TEXT,
    home_efs_uid TEXT NOT NULL,
    url TEXT NOT NULL,
    status TEXT NOT NULL,
    failure_reason TEXT,
    created_ms BIGINT NOT NULL,
    modified_ms BIGINT NOT NULL
);
CREATE UNIQUE INDEX spaces_name ON spaces (account, region, domain_id, name_key);
CREATE INDEX spaces_created ON spaces (account, region, created_ms, domain_id, name_key);
CREATE INDEX spaces_modified ON spaces (account, region, modified_ms, domain_id, name_key);
