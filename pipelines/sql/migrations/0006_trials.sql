-- Knotwork schema, version 6: fair trials (issue 16).  A therapist and client compare two technique
-- mixes over randomised AB/BA blocks of visits (pipelines/techniques/trial.py).
--
-- core.trials          one row per trial: the client, the two mixes (A and B), how many blocks,
--                      the first day it counts from, and why it ended early (NULL while running or
--                      when it ran to the end).
-- core.trial_schedule  one row per planned visit of a trial: its slot (1, 2, ...), its block and
--                      which mix is due.  The visits themselves stay in core.visits: the n-th
--                      visit of the client on or after started_on fills slot n, and adherence is
--                      whether that visit's techniques are the due mix.

CREATE TABLE core.trials (
    trial_id      VARCHAR PRIMARY KEY,
    client_id     VARCHAR NOT NULL,
    mix_a         VARCHAR[] NOT NULL,
    mix_b         VARCHAR[] NOT NULL,
    n_blocks      INTEGER NOT NULL CHECK (n_blocks >= 3),
    started_on    DATE NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    stopped_on    DATE,
    stop_reason   VARCHAR
);

CREATE TABLE core.trial_schedule (
    trial_id      VARCHAR NOT NULL,
    slot          INTEGER NOT NULL,
    block         INTEGER NOT NULL,
    mix           VARCHAR NOT NULL CHECK (mix IN ('A', 'B')),
    PRIMARY KEY (trial_id, slot)
);
