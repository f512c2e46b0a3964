"""PostgreSQL extensions a schema needs: for its column types, index operator classes and
column defaults, and the ones its source declares (Prisma's `extensions = [...]`, SQL
`CREATE EXTENSION`, a live database's `pg_extension`).

The differ turns an extension NEW needs that OLD neither needs nor has into an
`add_extension` change; the plan creates it first in expand (`CREATE EXTENSION IF NOT
EXISTS`), after a guard that stops with one line when the server does not offer it
(`pg_available_extensions`). Extensions are never dropped by a plan: other objects may use
them, and `DROP EXTENSION` would take those with it.
"""

from __future__ import annotations

from collections.abc import Iterator

from planner.model import Schema

#: column type (base name, lower case) -> extension
TYPE_EXTENSIONS = {
    "citext": "citext", "hstore": "hstore", "ltree": "ltree", "lquery": "ltree", "ltxtquery": "ltree",
    "vector": "vector", "halfvec": "vector", "sparsevec": "vector", "cube": "cube", "earth": "earthdistance",
    "geometry": "postgis", "geography": "postgis", "box2d": "postgis", "box3d": "postgis", "raster": "postgis_raster",
    "isbn": "isn", "isbn13": "isn", "issn": "isn", "issn13": "isn", "ismn": "isn", "ismn13": "isn", "ean13": "isn",
    "upc": "isn", "seg": "seg", "semver": "semver",
}
#: index operator class -> extension
OPCLASS_EXTENSIONS = {
    "gin_trgm_ops": "pg_trgm", "gist_trgm_ops": "pg_trgm",
    "vector_cosine_ops": "vector", "vector_l2_ops": "vector", "vector_ip_ops": "vector", "vector_l1_ops": "vector",
    "halfvec_cosine_ops": "vector", "halfvec_l2_ops": "vector", "halfvec_ip_ops": "vector",
    "gist_ltree_ops": "ltree", "gist__ltree_ops": "ltree", "gist_hstore_ops": "hstore", "gin_hstore_ops": "hstore",
    "gist_geometry_ops_2d": "postgis", "gist_geometry_ops_nd": "postgis", "gist_geography_ops": "postgis",
}
#: function called by a column default -> extension
FUNCTION_EXTENSIONS = {
    "uuid_generate_v4": "uuid-ossp", "uuid_generate_v1": "uuid-ossp", "uuid_generate_v1mc": "uuid-ossp",
    "gen_random_bytes": "pgcrypto", "gen_salt": "pgcrypto",
}
#: installed in every database; never a change
BUILT_IN = frozenset({"plpgsql"})


def _uses(schema: Schema) -> Iterator[tuple[str, str]]:
    """(extension, what needs it) for each use in `schema`, in its order: a column's type
    (`table.column (citext)`), a function its default calls (`table.column (default ...)`), an
    index operator class (`index name (gin_trgm_ops)`). Nothing outside PostgreSQL."""
    if schema.dialect != "postgresql":
        return
    for table in schema.tables:
        key = schema.key(table.schema, table.name)
        for column in table.columns:
            base = column.type.removesuffix("[]").split("(")[0].strip().lower()
            typed = TYPE_EXTENSIONS.get(base) if column.enum is None else None
            if typed:
                yield typed, f"{key}.{column.name} ({column.type})"
            if column.default:
                low = column.default.lower()
                for ext in dict.fromkeys(ext for fn, ext in FUNCTION_EXTENSIONS.items() if fn in low):
                    if ext != typed:
                        yield ext, f"{key}.{column.name} (default {column.default})"
        for index in table.indexes:
            for part in index.parts:
                ext = OPCLASS_EXTENSIONS.get(part.opclass.lower()) if part.opclass else None
                if ext:
                    yield ext, f"index {index.name or key} ({part.opclass})"


def needed(schema: Schema) -> tuple[str, ...]:
    """Extensions the schema's types, operator classes and defaults need (sorted)."""
    return tuple(sorted({ext for ext, _ in _uses(schema)}))


def wanted(schema: Schema) -> tuple[str, ...]:
    """Extensions the schema needs or declares (sorted, without built-in ones)."""
    if schema.dialect != "postgresql":
        return ()
    return tuple(sorted((set(needed(schema)) | set(schema.extensions)) - BUILT_IN))


def wanted_by(schema: Schema) -> dict[str, list[str]]:
    """Each extension the schema needs or declares (sorted, as `wanted`) -> what needs it:
    `table.column (citext)`, `index name (gin_trgm_ops)`, or `declared` when only the source
    names it. One pass over the schema."""
    if schema.dialect != "postgresql":
        return {}
    uses: dict[str, list[str]] = {}
    for ext, reason in _uses(schema):
        uses.setdefault(ext, []).append(reason)
    return {ext: uses.get(ext) or ["declared"] for ext in sorted((set(uses) | set(schema.extensions)) - BUILT_IN)}
