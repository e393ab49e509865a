-- The distinct technique sets (mixes) among the analysable visits, with a dense code: every
-- per-client statistic of a 0/1 column (a technique, a pair, a mix) is a sum over the client's
-- visits per set (client_sets.sql), so one (client, set) table serves them all.
CREATE OR REPLACE TEMP TABLE tq_sets AS
select
    CAST(row_number() OVER (ORDER BY technique_set) - 1 AS integer) AS set_code,
    technique_set,
    techniques
FROM (
    SELECT technique_set, any_value(techniques) AS techniques
    FROM tq_visits
    WHERE excluded_because IS NULL
    GROUP BY technique_set
)
