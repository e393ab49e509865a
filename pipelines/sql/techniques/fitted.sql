-- The fitted 0/1 part of each (technique set, pressure) cell, x'b without the continuous
-- covariates, from bound lists (computed in numpy from the coefficients): residuals.sql joins it.
create or replace temp table tq_fitted as
select
    unnest($sets) as technique_set,
    unnest($labels) as pressure_label,
    unnest($fitted) as fitted
