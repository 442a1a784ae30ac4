"""The store: SQLAlchemy Core tables and one module of queries per entity."""
