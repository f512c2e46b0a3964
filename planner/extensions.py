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


def needed(schema: Schema) -> tuple[str, ...]:
    """Extensions the schema's types, operator classes and defaults need (sorted)."""
    if schema.dialect != "postgresql":
        return ()
    found: set[str] = set()
    for table in schema.tables:
        for column in table.columns:
            base = column.type.removesuffix("[]").split("(")[0].strip().lower()
            if column.enum is None and base in TYPE_EXTENSIONS:
                found.add(TYPE_EXTENSIONS[base])
            if column.default:
                low = column.default.lower()
                found.update(ext for fn, ext in FUNCTION_EXTENSIONS.items() if fn in low)
        for index in table.indexes:
            for part in index.parts:
                if part.opclass and part.opclass.lower() in OPCLASS_EXTENSIONS:
                    found.add(OPCLASS_EXTENSIONS[part.opclass.lower()])
    return tuple(sorted(found))


def wanted(schema: Schema) -> tuple[str, ...]:
    """Extensions the schema needs or declares (sorted, without built-in ones)."""
    if schema.dialect != "postgresql":
        return ()
    return tuple(sorted((set(needed(schema)) | set(schema.extensions)) - BUILT_IN))


def why(schema: Schema, extension: str) -> list[str]:
    """What in `schema` needs `extension`: `table.column (citext)`, `index name (gin_trgm_ops)`,
    or `declared` when only the source names it."""
    out = []
    for table in schema.tables:
        key = schema.key(table.schema, table.name)
        for column in table.columns:
            base = column.type.removesuffix("[]").split("(")[0].strip().lower()
            if column.enum is None and TYPE_EXTENSIONS.get(base) == extension:
                out.append(f"{key}.{column.name} ({column.type})")
            elif column.default and any(ext == extension and fn in column.default.lower()
                                        for fn, ext in FUNCTION_EXTENSIONS.items()):
                out.append(f"{key}.{column.name} (default {column.default})")
        for index in table.indexes:
            for part in index.parts:
                if part.opclass and OPCLASS_EXTENSIONS.get(part.opclass.lower()) == extension:
                    out.append(f"index {index.name or key} ({part.opclass})")
    return out or (["declared"] if extension in schema.extensions else [])
