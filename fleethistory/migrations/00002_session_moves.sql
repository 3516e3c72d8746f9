-- A session's start may move once its agent knows better: a login seen
-- by its processes before sshd wrote its utmp record starts at its first
-- process, then at the record's time. The row moves to the new start,
-- and this table remembers the move, so that an event of the old start
-- delivered late (by another collector, or again after a crash) finds
-- the row where it went instead of making a second one.

-- +goose Up
CREATE TABLE session_moves (
    host      text        NOT NULL,
    class     text        NOT NULL,
    logon_id  text        NOT NULL,
    old_start timestamptz NOT NULL,
    new_start timestamptz NOT NULL,
    PRIMARY KEY (host, class, logon_id, old_start)
);

-- +goose Down
DROP TABLE session_moves;
