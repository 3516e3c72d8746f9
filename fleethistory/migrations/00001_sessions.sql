-- The fleet's session history. Every table is partitioned by month (UTC)
-- on a time that never changes for a row, so that retention drops whole
-- partitions; the store creates each month's partitions before it writes
-- into them (see partitions.go).

-- +goose Up
-- One row per session lifecycle on one host, keyed by what every event of
-- the session carries: host, class, LogonId and start.
CREATE TABLE sessions (
    host        text        NOT NULL,
    class       text        NOT NULL,
    logon_id    text        NOT NULL,
    start_at    timestamptz NOT NULL,
    path        text        NOT NULL DEFAULT '',
    user_name   text        NOT NULL DEFAULT '',
    uid         bigint,
    logon_type  integer,
    tty         text        NOT NULL DEFAULT '',
    remote_host text        NOT NULL DEFAULT '',
    remote_addr inet,
    pid         bigint      NOT NULL DEFAULT 0,
    end_at      timestamptz,
    how         text        NOT NULL DEFAULT '',
    status      text        NOT NULL DEFAULT '',
    status_at   timestamptz,
    seen_at     timestamptz NOT NULL,
    props       jsonb,
    PRIMARY KEY (host, class, logon_id, start_at)
) PARTITION BY RANGE (start_at);

-- "Who was on HOST at T": the host's sessions that started by T.
CREATE INDEX sessions_host_start ON sessions (host, start_at) INCLUDE (end_at);
-- "USER's sessions since T": ended after T, or still open.
CREATE INDEX sessions_user_end ON sessions (user_name, end_at);
-- Time ranges across the fleet, and the timeline.
CREATE INDEX sessions_start ON sessions (start_at);
CREATE INDEX sessions_end ON sessions (end_at);

-- Each change of a session's Status, with the session it belongs to.
CREATE TABLE status_changes (
    host       text        NOT NULL,
    class      text        NOT NULL,
    logon_id   text        NOT NULL,
    start_at   timestamptz NOT NULL,
    at         timestamptz NOT NULL,
    old_status text        NOT NULL,
    new_status text        NOT NULL,
    msg_id     text        NOT NULL
) PARTITION BY RANGE (start_at);
CREATE INDEX status_changes_session ON status_changes (host, class, logon_id, start_at, at);

-- The ids of the messages applied, so that a message delivered again
-- changes nothing; partitioned by the event's time.
CREATE TABLE applied_events (
    msg_id text        NOT NULL,
    at     timestamptz NOT NULL,
    PRIMARY KEY (msg_id, at)
) PARTITION BY RANGE (at);

-- +goose Down
DROP TABLE applied_events;
DROP TABLE status_changes;
DROP TABLE sessions;
