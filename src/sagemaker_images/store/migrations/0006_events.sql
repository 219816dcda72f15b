-- State-change events waiting for their sinks: the outbox. An event is written in the
-- transaction of the change it tells of, with one delivery row per sink, and removed once
-- no delivery row is left. `kind` is `image` or `image-version`; `name` the image's;
-- `version` a version's number, or on an image's event its latest (NULL: none); `tags` a
-- JSON object, as they were when the change was made.
CREATE TABLE events (
    id {autoid},
    uuid TEXT NOT NULL,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    version BIGINT,
    status TEXT NOT NULL,
    failure_reason TEXT,
    tags TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE INDEX events_account ON events (account, id);

-- Every sink any server was given, by name, so that its deliveries and its job name it by
-- a number every server agrees on; `seen_ms`: when a server last said it was given it (a
-- sink no server has named for a while is retired, with its undelivered events).
CREATE TABLE event_sinks (
    id {autoid},
    name TEXT NOT NULL,
    seen_ms BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX event_sinks_name ON event_sinks (name);

CREATE TABLE event_deliveries (
    sink_id BIGINT NOT NULL,
    event_id BIGINT NOT NULL,
    PRIMARY KEY (sink_id, event_id)
) {without_rowid};
CREATE INDEX event_deliveries_event ON event_deliveries (event_id);

-- A sink has at most one delivery job: its events go out in order, from one place at a time.
CREATE UNIQUE INDEX jobs_one_delivery_per_sink ON jobs (kind, subject_id)
    WHERE kind = 'events.deliver';
