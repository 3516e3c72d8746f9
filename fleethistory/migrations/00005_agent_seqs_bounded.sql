-- Bound an agent's row in agent_seqs: an agent that loses every other
-- event for hours (or a hostile one) made its numbers a multirange of
-- tens of thousands of runs, rewritten with every batch of its events (a
-- review measured 1.1 MB and 0.95 s a batch at 75,000 holes). A row now
-- keeps its newest runs (cimsess_seq_bound) and counts the numbers of the
-- oldest holes it fills as forgotten: still missing, no longer listed.

-- +goose Up
ALTER TABLE agent_seqs ADD COLUMN forgotten bigint NOT NULL DEFAULT 0;

-- +goose StatementBegin
-- How many numbers a multirange of bigint holds.
CREATE FUNCTION cimsess_seq_count(m int8multirange) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT coalesce(sum(upper(r) - lower(r)), 0)::bigint FROM unnest(m) AS r $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- m with at most keep runs where it can: the holes before its keep
-- newest runs are filled, but only below upto, the end of the span of
-- numbers as it was at least the gap wait ago. A younger hole may be
-- another collector's batch on its way, and is never filled: a row is
-- bounded by its old holes, and its numbers of the last gap wait.
CREATE FUNCTION cimsess_seq_bound(m int8multirange, keep int, upto bigint) RETURNS int8multirange
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	SELECT CASE WHEN c.n <= keep OR upto IS NULL OR upto <= lower(m) THEN m
		ELSE m + int8multirange(int8range(lower(m), greatest(lower(m), least(upto,
			(SELECT lower(r) FROM unnest(m) AS r ORDER BY lower(r) OFFSET c.n - keep LIMIT 1)))))
		END
	FROM (SELECT count(*)::int AS n FROM unnest(m)) AS c
$$;
-- +goose StatementEnd

-- The agents with holes or forgotten numbers, which the collectors ask
-- for every minute.
DROP INDEX agent_seqs_holes;
CREATE INDEX agent_seqs_holes ON agent_seqs (host) WHERE NOT isempty(holes) OR forgotten > 0;

-- +goose Down
DROP INDEX agent_seqs_holes;
CREATE INDEX agent_seqs_holes ON agent_seqs (host) WHERE NOT isempty(holes);
DROP FUNCTION cimsess_seq_bound(int8multirange, int, bigint);
DROP FUNCTION cimsess_seq_count(int8multirange);
ALTER TABLE agent_seqs DROP COLUMN forgotten;
