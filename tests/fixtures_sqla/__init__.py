"""Importable SQLAlchemy model modules for the loader tests (`tests.fixtures_sqla.<module>:attr`)."""
