-- Gap accounting: an agent numbers its events 1, 2, 3… and a number its
-- full outbox could not keep stays used, so a number that never came is a
-- lost event. Every collector adds the numbers of the events it is given
-- (written, already written, or of a class not recorded) to its agent's
-- row, in the transaction of the batch; any collector, and history, can
-- then tell the numbers that never came, whichever collector got which
-- batch. One row per agent: the event ids less their number
-- (<hosttoken>.<agent id>). Multiranges (PostgreSQL 14) keep the numbers
-- as runs: a row holds one range per gap, and adding numbers again (a
-- redelivery) changes nothing.

-- +goose Up
CREATE TABLE agent_seqs (
    agent      text           NOT NULL PRIMARY KEY,
    host       text           NOT NULL,
    -- The numbers that came.
    seqs       int8multirange NOT NULL,
    -- The numbers missing between the lowest and the highest that came.
    holes      int8multirange GENERATED ALWAYS AS (int8multirange(range_merge(seqs)) - seqs) STORED,
    changed_at timestamptz    NOT NULL,
    -- The span of seqs (lowest to highest) as it was at two times, the
    -- older at least the store's gap wait before the newer: a hole counts
    -- once it lies within a span at least that old (the events above it
    -- came that long ago, so those of the hole are not on their way).
    span0      int8range      NOT NULL,
    span0_at   timestamptz    NOT NULL,
    span1      int8range      NOT NULL,
    span1_at   timestamptz    NOT NULL
);
-- The agents with holes, which the collectors ask for every minute.
CREATE INDEX agent_seqs_holes ON agent_seqs (host) WHERE NOT isempty(holes);

-- +goose Down
DROP TABLE agent_seqs;
