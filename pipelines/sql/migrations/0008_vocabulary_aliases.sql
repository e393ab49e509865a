-- Knotwork schema, version 8: the practice's own vocabulary aliases (issue 14).
--
-- A term a file uses that matches no known entry is kept as the practice's own term
-- (core.vocabulary_extensions).  When the therapist says it is the same as a known entry
-- ("same as ..." on the Import page, or merging terms later), the spelling is saved here, so
-- every later import maps it by itself, on the Import page and the command line alike.
--   vocabulary  technique / muscle / region / joint / movement (Vocabulary.name)
--   alias       the spelling as normalised by pipelines.ingest.vocab.normalise
--   canonical   the entry it means (a built-in entry or another practice term)
--   actor       who decided, in the words of meta.audit
CREATE TABLE core.vocabulary_aliases (
    vocabulary  VARCHAR NOT NULL,
    alias       VARCHAR NOT NULL,
    canonical   VARCHAR NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    actor       VARCHAR
);
