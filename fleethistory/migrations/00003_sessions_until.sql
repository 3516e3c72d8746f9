-- Sessions open at some time after T are those whose end, or infinity
-- for the open ones, is after T: one range of an index on that expression
-- instead of "end_at IS NULL OR end_at > T", which the planner splits
-- into two scans, one of them without the host or the user (the whole
-- of the latest months). Per host (who was on HOST at T: in each month
-- before T's only the few sessions that outlived T), per user (USER's
-- sessions since T), and across the fleet (the timeline's range).

-- +goose Up
DROP INDEX sessions_user_end;
DROP INDEX sessions_end;
CREATE INDEX sessions_host_until ON sessions (host, (COALESCE(end_at, 'infinity'::timestamptz)));
CREATE INDEX sessions_user_until ON sessions (user_name, (COALESCE(end_at, 'infinity'::timestamptz)));
CREATE INDEX sessions_until ON sessions ((COALESCE(end_at, 'infinity'::timestamptz)));

-- +goose Down
DROP INDEX sessions_until;
DROP INDEX sessions_user_until;
DROP INDEX sessions_host_until;
CREATE INDEX sessions_user_end ON sessions (user_name, end_at);
CREATE INDEX sessions_end ON sessions (end_at);
