-- No self-report windows (every outcome but the self-report one): visits.sql joins this empty table.
CREATE OR REPLACE TEMP TABLE tq_windows (visit_id varchar, self_pain_before_7d double, self_pain_after_7d double)
