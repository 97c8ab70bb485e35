// @libsql/hrana-client with protocolVersion 3: the protocol surface, request by request.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as hrana from "@libsql/hrana-client";
import { backend, intParam, textIntDecltypes } from "./dialect.mjs";

/**
 * Defines the tests. `open()` returns a client, `sqlOwner(client, stream)` what stores SQL,
 * and `version` the protocol version the client must negotiate; the v3-only tests run only
 * where it is 3.
 */
export function hranaSuite(name, open, sqlOwner, version) {
  async function withStream(fn) {
    const client = open();
    try {
      assert.equal(await client.getVersion(), version, "negotiated protocol version");
      const stream = client.openStream();
      await fn(stream, client);
      stream.close();
    } finally {
      client.close();
    }
  }

  test(`${name}: query, describe and sequence`, () =>
    withStream(async (stream) => {
      await stream.sequence("CREATE TABLE t (a TEXT, b int NOT NULL); INSERT INTO t VALUES ('x', 1); INSERT INTO t VALUES ('y', 2);");
      const rows = await stream.query("SELECT a, b FROM t ORDER BY b");
      assert.deepEqual(rows.rows.map((r) => r.a), ["x", "y"]);
      assert.deepEqual(rows.columnDecltypes, textIntDecltypes);
      const value = await stream.queryValue([`${intParam} + 1`, [41]]);
      assert.equal(value.value, 42);
      const d = await stream.describe("SELECT a, ?1 + 1 AS n FROM t WHERE b = :b");
      assert.deepEqual(d.paramNames, ["?1", ":b"]);
      assert.deepEqual(d.columns.map((c) => c.name), ["a", "n"]);
      assert.equal(d.isReadonly, true);
      assert.equal(d.isExplain, false);
      const run = await stream.run(["INSERT INTO t VALUES (?, ?)", ["z", 3]]);
      assert.equal(run.affectedRowCount, 1);
      // A rowid is SQLite's; the other backends' tables here have no generated key.
      if (backend === "sqlite") assert.equal(run.lastInsertRowid, 3n);
    }));

  const v3 = { skip: version < 3 ? "needs protocol version 3" : false };

  test(`${name}: autocommit follows the transaction`, v3, () =>
    withStream(async (stream) => {
      assert.equal(await stream.getAutocommit(), true);
      await stream.run("BEGIN");
      assert.equal(await stream.getAutocommit(), false);
      await stream.run("ROLLBACK");
      assert.equal(await stream.getAutocommit(), true);
    }));

  test(`${name}: stored SQL`, () =>
    withStream(async (stream, client) => {
      const sql = sqlOwner(client, stream).storeSql("SELECT 7 AS seven");
      assert.equal((await stream.queryValue(sql)).value, 7);
      sql.close();
    }));

  test(`${name}: every condition type`, v3, () =>
    withStream(async (stream) => {
      const batch = stream.batch();
      const ok = batch.step();
      const fail = batch.step();
      const okR = ok.queryValue("SELECT 1");
      const failR = fail.queryValue("SELECT * FROM missing");
      const onOk = batch.step().condition(hrana.BatchCond.ok(ok)).queryValue("SELECT 'ok'");
      const onErr = batch.step().condition(hrana.BatchCond.error(fail)).queryValue("SELECT 'error'");
      const onNot = batch.step().condition(hrana.BatchCond.not(hrana.BatchCond.ok(ok))).queryValue("SELECT 'not'");
      const onAnd = batch
        .step()
        .condition(hrana.BatchCond.and(batch, [hrana.BatchCond.ok(ok), hrana.BatchCond.error(fail)]))
        .queryValue("SELECT 'and'");
      const onOr = batch
        .step()
        .condition(hrana.BatchCond.or(batch, [hrana.BatchCond.error(ok), hrana.BatchCond.ok(fail)]))
        .queryValue("SELECT 'or'");
      const onAuto = batch.step().condition(hrana.BatchCond.isAutocommit(batch)).queryValue("SELECT 'auto'");
      await batch.execute();
      assert.equal((await okR).value, 1);
      await assert.rejects(failR);
      assert.equal((await onOk).value, "ok");
      assert.equal((await onErr).value, "error");
      assert.equal(await onNot, undefined);
      assert.equal((await onAnd).value, "and");
      assert.equal(await onOr, undefined);
      assert.equal((await onAuto).value, "auto");
    }));

  test(`${name}: a 1,000-step batch`, () =>
    withStream(async (stream) => {
      const batch = stream.batch(false);
      const results = Array.from({ length: 1000 }, (_, i) => batch.step().queryValue([intParam, [i]]));
      await batch.execute();
      const values = await Promise.all(results);
      assert.equal(values[999].value, 999);
    }));

  test(`${name}: a 1,000-step batch through a cursor`, v3, () =>
    withStream(async (stream) => {
      for (const useCursor of [true]) {
        const batch = stream.batch(useCursor);
        const results = Array.from({ length: 1000 }, (_, i) => batch.step().queryValue([intParam, [i]]));
        await batch.execute();
        const values = await Promise.all(results);
        assert.equal(values.length, 1000);
        assert.equal(values[999].value, 999);
      }
    }));
}
