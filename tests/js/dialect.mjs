// What differs between the backends behind the dbx server, for the suites that run on all of
// them. DBX_HRANA_BACKEND is set by the Rust test that starts the server.
export const backend = process.env.DBX_HRANA_BACKEND ?? "sqlite";

const types = {
  sqlite: { int: "INTEGER", real: "REAL", blob: "BLOB", key: "TEXT" },
  postgres: { int: "BIGINT", real: "DOUBLE PRECISION", blob: "BYTEA", key: "VARCHAR(50)" },
  mysql: { int: "BIGINT", real: "DOUBLE", blob: "BLOB", key: "VARCHAR(50)" },
};

/** Column types per backend: `int` holds any i64, `real` a double, `key` is indexable text. */
export const t = types[backend];

/** The decltypes each backend reports for columns declared `TEXT` and `int`. */
export const textIntDecltypes = { sqlite: ["TEXT", "INT"], postgres: ["text", "int4"], mysql: ["TEXT", "INT"] }[backend];

/** Text concatenation of two named parameters. */
export const concatNamed = {
  sqlite: "SELECT :a || @b AS s",
  postgres: "SELECT CAST(:a AS TEXT) || CAST(:b AS TEXT) AS s",
  mysql: "SELECT CONCAT(:a, :b) AS s",
}[backend];

/** A parameter read back as an integer (PostgreSQL cannot infer a bare `$1`'s type). */
export const intParam = backend === "postgres" ? "SELECT CAST(? AS BIGINT)" : "SELECT ?";
