// @libsql/client with auth tokens, over http:// and ws://, against a dbx server with JWT keys.
// DBX_HRANA_RW_TOKEN and DBX_HRANA_RO_TOKEN are read-write and read-only tokens it accepts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "@libsql/client";

const url = process.env.DBX_HRANA_URL;
const rw = process.env.DBX_HRANA_RW_TOKEN;
const ro = process.env.DBX_HRANA_RO_TOKEN;
if (!url || !rw || !ro) throw new Error("run this through `cargo xtask test`");

for (const [scheme, base] of [["http", url], ["ws", url.replace(/^http/, "ws")]]) {
  test(`${scheme}: tokens decide who reads and who writes`, async () => {
    const table = `t_${scheme}`;
    const writer = createClient({ url: base, authToken: rw, intMode: "bigint" });
    await writer.execute(`CREATE TABLE ${table} (x INTEGER)`);
    await writer.execute(`INSERT INTO ${table} VALUES (1)`);
    const reader = createClient({ url: base, authToken: ro, intMode: "bigint" });
    const rows = await reader.execute(`SELECT COUNT(*) AS n FROM ${table}`);
    assert.equal(rows.rows[0].n, 1n);
    await assert.rejects(reader.execute(`INSERT INTO ${table} VALUES (2)`), (e) => e.code === "SQLITE_AUTH");
    // The refusal loses nothing and the reader keeps working.
    const again = await reader.execute(`SELECT COUNT(*) AS n FROM ${table}`);
    assert.equal(again.rows[0].n, 1n);
    const nobody = createClient({ url: base });
    await assert.rejects(nobody.execute("SELECT 1"));
    writer.close();
    reader.close();
    nobody.close();
  });
}
