select count(*) > 0 from duckdb_tables() where schema_name = 'technique_cache' and table_name = 'reports'
