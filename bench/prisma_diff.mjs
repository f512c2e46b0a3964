// Prisma's own schema engine (@prisma/schema-engine-wasm), offline: `node prisma_diff.mjs FROM TO`
// prints the migration SQL from FROM to TO, each `empty` or a .prisma file (PostgreSQL).
// The engine wants a driver adapter; this stub answers the one version query the engine asks
// before a diff of two datamodels and refuses everything else: no database is touched.
// Resolved from NODE_PATH (bench/run installs the package into its cache and sets it).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(join(process.env.NODE_PATH ?? process.cwd(), "noop.js"));
const pkgDir = dirname(require.resolve("@prisma/schema-engine-wasm/schema_engine_bg"));
const bg = await import(join(pkgDir, "schema_engine_bg.js"));
const { instance } = await WebAssembly.instantiate(readFileSync(join(pkgDir, "schema_engine_bg.wasm")),
                                                   { "./schema_engine_bg.js": bg });
bg.__wbg_set_wasm(instance.exports);
instance.exports.__wbindgen_start?.();

const refuse = async () => { throw new Error("stub adapter: no database"); };
const versionRow = { columnNames: ["exists", "version", "numeric_version"], columnTypes: [5, 7, 0],
                     rows: [[true, "PostgreSQL 16.0", 160000]] };
const conn = {
  provider: "postgres", adapterName: "stub",
  queryRaw: async () => ({ ok: true, value: versionRow }),
  executeRaw: refuse, executeScript: refuse, startTransaction: refuse,
  getConnectionInfo: () => ({ ok: true, value: { supportsRelationJoins: false } }),
  dispose: async () => {},
};
const adapter = { provider: "postgres", adapterName: "stub",
                  connect: async () => ({ ok: true, value: conn }),
                  connectToShadowDb: async () => ({ ok: true, value: conn }) };

// Prisma 7 takes connection URLs from prisma.config.ts, no longer from the schema file, and
// rejects preview features that have since become GA or been removed: both are dropped
const KNOWN = new Set(["fullTextSearchPostgres", "nativeDistinct", "partialIndexes", "postgresqlExtensions",
                       "relationJoins", "schemaEngineDriverAdapters", "shardKeys", "strictUndefinedChecks",
                       "typedSql", "views"]);
const prisma7 = (text) => text
  .replace(/^(\s*)(url|directUrl|shadowDatabaseUrl)\s*=.*$/gm, "$1// $2 (removed)")
  .replace(/^(\s*previewFeatures\s*=\s*)\[([^\]]*)\]/gm, (_, head, list) =>
    head + "[" + list.split(",").map((x) => x.trim()).filter((x) => KNOWN.has(x.replace(/"/g, ""))).join(", ") + "]");
const target = (arg) => arg === "empty" ? { tag: "empty" }
  : { tag: "schemaDatamodel", files: [{ path: arg, content: prisma7(readFileSync(arg, "utf8")) }] };

const [from, to] = process.argv.slice(2);
const engine = await bg.SchemaEngine.new({ datamodels: undefined }, () => {}, adapter);
const res = await engine.diff({ from: target(from), to: target(to), script: true, exitCode: null,
                                filters: { externalTables: [], externalEnums: [] } });
process.stdout.write(res.stdout ?? "");
