-- The fitted 0/1 part of each (technique set, pressure) cell, x'b without the continuous
-- covariates, from bound lists (computed in numpy from the coefficients): residuals.sql joins it.
CREATE OR REPLACE TEMP TABLE tq_fitted AS
select
    unnest($sets) AS technique_set,
    unnest($labels) AS pressure_label,
    unnest($fitted) AS fitted
