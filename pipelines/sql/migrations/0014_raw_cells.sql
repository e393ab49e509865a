-- The raw layer keeps each row's cells as a list in the order of its file's header
-- (raw.files.headers) instead of a JSON object per line that repeated every header name: the same
-- text in about half the bytes, and less work per imported row (benchmarks/RESULTS.md, issue 18).
-- Rows stored before this migration are converted: each header's value, '' where the JSON had
-- null (the fast import path already stored empty cells as ''). A row whose file is somehow not
-- in raw.files keeps its own key order. One pass over raw.rows, once per database.
CREATE TABLE raw.rows_cells (
    file_hash   VARCHAR NOT NULL,
    line        BIGINT NOT NULL,
    cells       VARCHAR[] NOT NULL  -- the row's cell text, in the order of raw.files.headers
);

INSERT INTO raw.rows_cells
SELECT file_hash, line, list_transform(headers, lambda h: coalesce(map_extract_value(m, h), ''))
FROM (SELECT r.file_hash, r.line, coalesce(f.headers, json_keys(r.payload)) AS headers,
             json_transform(r.payload, '"MAP(VARCHAR, VARCHAR)"') AS m
      FROM raw.rows r LEFT JOIN raw.files f ON f.file_hash = r.file_hash)
ORDER BY file_hash, line;

DROP TABLE raw.rows;
ALTER TABLE raw.rows_cells RENAME TO rows;
