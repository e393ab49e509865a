-- The staging schema held a copy of the last import of each kind, written after core and read by
-- nothing (the import validates and casts in temporary tables of its own transaction). It cost a
-- copy of every file on every import, so it goes: raw keeps every row as read, core the clean
-- tables, marts what the dashboard reads.
DROP SCHEMA IF EXISTS staging CASCADE;
