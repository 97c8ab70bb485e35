// The @libsql/client tests, for any URL scheme the client supports.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "@libsql/client";
import { concatNamed, t } from "./dialect.mjs";

/** Defines every test against `url` (http:// or ws://). */
export function clientSuite(url) {
function client() {
  return createClient({ url, intMode: "bigint" });
}

test("execute round-trips every value type", async () => {
  const c = client();
  await c.execute(`CREATE TABLE vals (i ${t.int}, r ${t.real}, t TEXT, b ${t.blob})`);
  await c.execute({
    sql: "INSERT INTO vals VALUES (?, ?, ?, ?)",
    args: [-9223372036854775808n, 1e18, "héllo ✓", new Uint8Array([0, 255, 7])],
  });
  const rs = await c.execute("SELECT i, r, t, b FROM vals");
  assert.equal(rs.rows.length, 1);
  const row = rs.rows[0];
  assert.equal(row.i, -9223372036854775808n);
  assert.equal(row.r, 1e18);
  assert.equal(row.t, "héllo ✓");
  assert.deepEqual(new Uint8Array(row.b), new Uint8Array([0, 255, 7]));
  assert.deepEqual(rs.columns, ["i", "r", "t", "b"]);
  const named = await c.execute({ sql: concatNamed, args: { a: "x", b: "y" } });
  assert.equal(named.rows[0].s, "xy");
  c.close();
});

test("batch in write, read and deferred modes", async () => {
  const c = client();
  const [, insert] = await c.batch(
    ["CREATE TABLE b (x INTEGER)", { sql: "INSERT INTO b VALUES (?), (?)", args: [1, 2] }],
    "write",
  );
  assert.equal(insert.rowsAffected, 2);
  const [count] = await c.batch(["SELECT COUNT(*) AS n FROM b"], "read");
  assert.equal(count.rows[0].n, 2n);
  await c.batch([{ sql: "INSERT INTO b VALUES (?)", args: [3] }], "deferred");
  // A failing statement rolls the whole batch back.
  await assert.rejects(c.batch(["INSERT INTO b VALUES (4)", "INSERT INTO nope VALUES (1)"], "write"));
  const after = await c.execute("SELECT COUNT(*) AS n FROM b");
  assert.equal(after.rows[0].n, 3n);
  c.close();
});

test("an interactive transaction commits and rolls back", async () => {
  const c = client();
  await c.execute("CREATE TABLE tx (x INTEGER)");
  const tx = await c.transaction("write");
  await tx.execute("INSERT INTO tx VALUES (1)");
  const inside = await tx.execute("SELECT COUNT(*) AS n FROM tx");
  assert.equal(inside.rows[0].n, 1n);
  await tx.commit();
  const gone = await c.transaction("write");
  await gone.execute("INSERT INTO tx VALUES (2)");
  await gone.rollback();
  const rs = await c.execute("SELECT COUNT(*) AS n FROM tx");
  assert.equal(rs.rows[0].n, 1n);
  c.close();
});

test("executeMultiple runs a script", async () => {
  const c = client();
  await c.executeMultiple("CREATE TABLE m (x INTEGER); INSERT INTO m VALUES (1); INSERT INTO m VALUES (2);");
  const rs = await c.execute("SELECT SUM(x) AS s FROM m");
  // MySQL sums into a DECIMAL, which travels as text.
  assert.equal(Number(rs.rows[0].s), 3);
  c.close();
});

test("100 concurrent write batches all succeed", async () => {
  const c = client();
  await c.execute("CREATE TABLE hundred (x INTEGER)");
  await Promise.all(
    Array.from({ length: 100 }, (_, i) => c.batch([{ sql: "INSERT INTO hundred VALUES (?)", args: [i] }], "write")),
  );
  const rs = await c.execute("SELECT COUNT(*) AS n, SUM(x) AS s FROM hundred");
  assert.equal(rs.rows[0].n, 100n);
  assert.equal(Number(rs.rows[0].s), 4950);
  c.close();
});

test("error codes reach the client", async () => {
  const c = client();
  await c.execute(`CREATE TABLE k (x INTEGER PRIMARY KEY, y ${t.key} UNIQUE)`);
  await c.execute("INSERT INTO k VALUES (1, 'a')");
  await assert.rejects(c.execute("INSERT INTO k VALUES (1, 'b')"), (e) => e.code === "SQLITE_CONSTRAINT");
  await assert.rejects(c.execute("INSERT INTO k VALUES (2, 'a')"), (e) => e.code === "SQLITE_CONSTRAINT");
  await assert.rejects(c.execute({ sql: "SELECT ?, ?", args: [1] }), (e) => e.code === "ARGS_INVALID");
  c.close();
});
}
