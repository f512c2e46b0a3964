"""Foundations of the verification harness (`planner verify`, issue 5). A library; no CLI.

* `planner.verify.metadata.to_metadata(schema)`: the model as SQLAlchemy `MetaData`;
  `create_all()` builds a database that reflects back to the same schema (zero changes).
* `planner.verify.seed.seed(url, schema, rows=50, seed=0)`: deterministic generated rows that
  respect the schema's types and constraints; `seed_database()` also says why a table got
  fewer rows. (`seed` is not re-exported here: the name would hide the `seed` module.)
* `planner.verify.checksum`: `table_checksums(url, schema)`, `row_counts(url, schema)` and
  `compare_checksums(before, after)`, read-only fingerprints of every table's rows and values,
  to prove that data survived an upgrade and downgrade.
"""

from __future__ import annotations

from planner.verify.checksum import compare_checksums, row_counts, table_checksums
from planner.verify.metadata import VerifyError, required_extensions, to_metadata
from planner.verify.seed import SeedReport, seed_database

__all__ = [
    "SeedReport", "VerifyError", "compare_checksums", "required_extensions", "row_counts",
    "seed_database", "table_checksums", "to_metadata",
]
