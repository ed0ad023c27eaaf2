"""SQLite schema, repositories and the content-addressed media store."""
