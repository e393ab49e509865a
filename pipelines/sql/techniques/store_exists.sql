SELECT count(*) > 0 FROM duckdb_tables() WHERE schema_name = 'technique_cache' AND table_name = 'reports'
