// The Studio in a real headless Chromium (Debian's `chromium`, driven by playwright-core),
// against a `dbx serve` that tests/server/studio.rs started with keys and seeded tables.
// Every write the browser makes is checked again through the REST API.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { chromium } from "playwright-core";

const base = process.env.DBX_URL;
const db = process.env.DBX_DB;
const admin = process.env.DBX_ADMIN_TOKEN;
const readOnly = process.env.DBX_RO_TOKEN;
// An `rw` token limited to the tenant `scoped`, which exists.
const scoped = process.env.DBX_SCOPED_TOKEN;
const shots = process.env.DBX_E2E_DIR;
const executablePath = process.env.DBX_CHROMIUM || "/usr/bin/chromium";
assert.ok(base && db && admin && readOnly && scoped && shots, "run through tests/server/studio.rs, which sets DBX_URL, DBX_DB, tokens and DBX_E2E_DIR");
mkdirSync(shots, { recursive: true });

let browser;
const pageErrors = [];
before(async () => {
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  browser = await chromium.launch({ executablePath, headless: true, args: ["--no-sandbox"] });
});
after(async () => {
  await browser?.close();
  assert.deepEqual(pageErrors, [], "the Studio threw in the page");
});

async function rest(method, path, token, body) {
  const response = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

async function open(token, hash = "") {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1360, height: 860 } });
  const page = await context.newPage();
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  await page.goto(`${base}/studio/${hash}`);
  await page.getByPlaceholder("eyJhbGciOiJFZERTQSIs…").fill(token);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByTestId("role").waitFor();
  return page;
}

const shot = (page, name) => page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
// The grid's cells in one column, once the page asked for has arrived.
async function columnTexts(page, index) {
  await page.locator("[data-testid=rows][aria-busy=false]").waitFor();
  return page.locator(`[data-testid=rows] tbody tr td:nth-child(${index})`).allTextContents();
}

// A column's texts once `ready` accepts them. After a click the grid is not busy yet for a
// moment and still shows the old rows, so waiting for "not busy" alone can read those.
async function columnWhen(page, index, ready) {
  const deadline = Date.now() + 15000;
  for (;;) {
    const texts = await columnTexts(page, index);
    if (ready(texts) || Date.now() > deadline) return texts;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test("a bad token is refused at the login screen, with the server's reason", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${base}/studio/`);
  await page.getByPlaceholder("eyJhbGciOiJFZERTQSIs…").fill("not-a-token");
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("alert").waitFor();
  assert.match(await page.getByRole("alert").textContent(), /token|JWT/i);
  await shot(page, "01-login-refused");
  await context.close();
});

test("an admin browses a table, pages through it, sorts and filters it", async () => {
  const page = await open(admin, `#/db/${db}`);
  assert.match(await page.getByTestId("role").textContent(), /admin/);
  await page.getByTestId("table-list").getByRole("link", { name: "users", exact: true }).click();
  await page.getByTestId("range").waitFor();
  assert.equal(await page.getByTestId("range").textContent(), "1–50 of 120");
  // Column 1 holds the row buttons; id is column 2, score column 5.
  assert.deepEqual((await columnTexts(page, 2)).slice(0, 3), ["1", "2", "3"]);
  await page.getByRole("button", { name: "next page" }).click();
  await page.getByText("51–100 of 120").waitFor();
  assert.equal((await columnTexts(page, 2))[0], "51");

  await page.locator("[data-testid=rows] th", { hasText: "score" }).click();
  await page.locator("th", { hasText: "score ▲" }).waitFor();
  const expected = await rest("GET", `/api/databases/${db}/tables/users/rows?order=score,id&limit=50`, admin);
  const scores = expected.body.rows.map((r) => String(r[3]));
  const ascending = await columnWhen(page, 5, (t) => t.join() === scores.join());
  assert.deepEqual(ascending, scores, "ascending by score, first page");
  await page.locator("[data-testid=rows] th", { hasText: "score" }).click();
  await page.locator("th", { hasText: "score ▼" }).waitFor();
  const descending = (await columnWhen(page, 5, (t) => t[0] === "100")).map(Number);
  assert.deepEqual(descending, [...descending].sort((a, b) => b - a));
  // Scores are (id * 37) % 101 over ids 1..120: every value from 0 to 100 occurs.
  assert.equal(descending[0], 100);
  assert.equal(scores[0], "0");

  await page.getByLabel("filter column").selectOption("name");
  await page.getByLabel("filter operator").selectOption("like");
  await page.getByLabel("filter value").fill("user1%");
  await page.getByRole("button", { name: "Filter" }).click();
  // user1, user10-19, user100-120
  await page.getByText("1–32 of 32").waitFor();
  for (const name of await columnTexts(page, 3)) assert.match(name, /^user1/);
  await shot(page, "02-rows-sorted-filtered");

  await page.getByRole("link", { name: "Schema", exact: true }).click();
  const schema = page.getByTestId("schema");
  await schema.getByText("users_email").waitFor();
  assert.match(await schema.textContent(), /VARCHAR\(40\)|varchar/i);
  await page.getByTestId("table-list").getByRole("link", { name: "orders", exact: true }).click();
  await page.getByRole("link", { name: "Schema", exact: true }).click();
  await page.getByTestId("schema").getByRole("link", { name: "users" }).waitFor();
  await shot(page, "03-schema-foreign-key");
  await page.context().close();
});

test("the SQL editor runs a query, shows the grid and keeps a history", async () => {
  const page = await open(admin, `#/db/${db}/sql`);
  const editor = page.locator(".cm-content");
  await editor.click();
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.type("SELECT id, name FROM users WHERE id <= 3 ORDER BY id");
  // Highlighting: keywords get their own spans.
  assert.ok((await page.locator(".cm-line span").count()) > 2, "the SQL is highlighted");
  await page.keyboard.press("Control+Enter");
  const result = page.getByTestId("result");
  await result.getByText("3 rows").waitFor();
  assert.deepEqual(await result.locator("tbody tr td:nth-child(2)").allTextContents(), ["user1", "user2", "user3"]);
  await page.getByRole("button", { name: "Run" }).waitFor();
  await page.locator(".cm-content").click();
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.type("SELEC nonsense");
  await page.getByRole("button", { name: "Run" }).click();
  await page.getByTestId("error").waitFor();
  assert.match(await page.getByTestId("error").textContent(), /syntax/i);
  const history = page.getByTestId("history");
  assert.equal(await history.locator("li").count(), 2);
  // Completion knows the tables' columns (after `table.`).
  await page.locator(".cm-content").click();
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.type("SELECT users.sco");
  await page.locator(".cm-tooltip-autocomplete").getByText("score").waitFor();
  await page.keyboard.press("Escape");
  // With a selection, only the selection runs.
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.type("SELECT 42 AS answer");
  await page.keyboard.press("Enter");
  await page.keyboard.type("SELEC broken");
  await page.keyboard.press("ControlOrMeta+Home");
  await page.keyboard.press("Shift+End");
  await page.keyboard.press("Control+Enter");
  await result.getByText("1 row").waitFor();
  assert.deepEqual(await result.locator("tbody td").allTextContents(), ["42"]);
  await history.getByRole("button", { name: /SELECT id, name FROM users/ }).click();
  assert.match(await editor.textContent(), /SELECT id, name FROM users WHERE id <= 3/);
  await page.getByRole("button", { name: "Run" }).click();
  await result.getByText("3 rows").waitFor();
  await shot(page, "04-sql-editor");

  // A script: statements split at the semicolons outside literals, run in order.
  const runScript = async (sql) => {
    await page.locator(".cm-content").click();
    await page.keyboard.press("ControlOrMeta+a");
    await page.keyboard.type(sql);
    await page.keyboard.press("Escape");
    const runs = Number(await page.getByTestId("outcome").getAttribute("data-runs"));
    await page.getByRole("button", { name: "Run" }).click();
    await page.locator(`[data-testid=outcome][data-runs="${runs + 1}"]`).waitFor();
    return page.getByTestId("script-summary").textContent();
  };
  assert.match(
    await runScript("CREATE TABLE scratch (id INTEGER PRIMARY KEY, v VARCHAR(5)); INSERT INTO scratch VALUES (1, 'a;b'); SELECT v FROM scratch"),
    /^3 statements ran in \d+ ms\.$/,
  );
  assert.deepEqual(await result.last().locator("tbody td").allTextContents(), ["a;b"]);
  const summary = await runScript("INSERT INTO scratch VALUES (2, 'x'); INSERT INTO scratch VALUES (1, 'dup'); INSERT INTO scratch VALUES (3, 'y')");
  assert.match(summary, /^1 statement ran in \d+ ms; statement 2 failed and the rest did not run\.$/);
  assert.match(await page.getByTestId("error").textContent(), /unique_violation statement 2 \(INSERT INTO scratch VALUES \(1, 'dup'\)\)/);
  const scratch = await rest("GET", `/api/databases/${db}/tables/scratch/rows?order=id`, admin);
  assert.deepEqual(scratch.body.rows.map((r) => r[0]), [1, 2], "the first insert committed; the third never ran");
  await shot(page, "04a-sql-script");
  await page.context().close();
});

test("edits, an insert and a delete are staged, previewed, committed, and seen through REST", async () => {
  const page = await open(admin, `#/db/${db}/table/users`);
  await page.getByTestId("range").waitFor();
  const row = (id) => page.locator("[data-testid=rows] tbody tr").filter({ has: page.locator("td:nth-child(2)", { hasText: new RegExp(`^${id}$`) }) });
  await row(1).locator("td:nth-child(3)").dblclick();
  await page.getByLabel("edit name").fill("Ada O'Brien");
  await page.getByLabel("edit name").press("Enter");
  await row(2).getByRole("button", { name: "delete row" }).click();
  await page.getByRole("button", { name: "Add row" }).click();
  // First with an id that is taken: the insert fails, and so nothing may land.
  await page.getByLabel("new id").fill("3");
  await page.getByLabel("new name").fill("newcomer");
  await page.getByLabel("new score").fill("42");
  const staged = page.getByTestId("staged");
  await staged.getByRole("button", { name: "Commit 3 changes" }).click();
  await page.getByTestId("error").waitFor();
  assert.match(await page.getByTestId("error").textContent(), /change 2 \(insert users\); nothing was committed/);
  const untouched = await rest("GET", `/api/databases/${db}/tables/users/rows?filter=id:le:2&order=id`, admin);
  assert.deepEqual(untouched.body.rows.map((r) => r[1]), ["user1", "user2"], "the update and the delete were rolled back");
  assert.equal(await staged.locator("li").count(), 3, "every change stays staged");
  await shot(page, "05a-commit-failed-nothing-lost");

  await page.getByLabel("new id").fill("500");
  const previews = await staged.locator("li").allTextContents();
  assert.deepEqual(previews, [
    "UPDATE users SET name = 'Ada O''Brien' WHERE id = 1",
    "INSERT INTO users (id, name, score) VALUES (500, 'newcomer', 42)",
    "DELETE FROM users WHERE id = 2",
  ]);
  // Staged is not committed: the server still has the old row.
  const before = await rest("GET", `/api/databases/${db}/tables/users/rows?filter=id:eq:1`, admin);
  assert.equal(before.body.rows[0][1], "user1");
  await shot(page, "05-staged-changes");
  await staged.getByRole("button", { name: "Commit 3 changes" }).click();
  await page.getByText("3 changes committed").waitFor();
  assert.equal(await page.getByTestId("staged").count(), 0);

  const edited = await rest("GET", `/api/databases/${db}/tables/users/rows?filter=id:eq:1`, admin);
  assert.equal(edited.body.rows[0][1], "Ada O'Brien");
  const inserted = await rest("GET", `/api/databases/${db}/tables/users/rows?filter=id:eq:500`, admin);
  assert.deepEqual(inserted.body.rows[0], [500, "newcomer", null, 42]);
  const deleted = await rest("GET", `/api/databases/${db}/tables/users/rows?filter=id:eq:2`, admin);
  assert.equal(deleted.body.total, 0);
  await shot(page, "06-committed");
  await page.context().close();
});

test("a table exports as CSV with every matching row", async () => {
  // Text a spreadsheet would run as a formula.
  const planted = await rest("POST", `/api/databases/${db}/tables/users/rows`, admin, {
    values: { id: 501, name: "=1+1", email: "@SUM(A1)", score: -3 },
  });
  assert.equal(planted.status, 201, JSON.stringify(planted.body));
  const page = await open(admin, `#/db/${db}/table/users`);
  await page.getByTestId("range").waitFor();
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export CSV" }).click()]);
  assert.equal(download.suggestedFilename(), "users.csv");
  const csv = readFileSync(await download.path(), "utf8");
  const lines = csv.trimEnd().split("\r\n");
  const total = (await rest("GET", `/api/databases/${db}/tables/users/rows?limit=1`, admin)).body.total;
  assert.equal(lines.length, total + 1, "a header and every row, not just the page on screen");
  assert.equal(lines[0], "id,name,email,score");
  assert.ok(lines.includes("1,Ada O'Brien,u1@example.com,37"), csv.slice(0, 200));
  assert.ok(lines.includes("501,'=1+1,'@SUM(A1),-3"), "formulas are defused, numbers kept");
  const [json] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export JSON" }).click()]);
  const objects = JSON.parse(readFileSync(await json.path(), "utf8"));
  assert.equal(objects.length, total);
  assert.deepEqual(objects.find((o) => o.id === 500), { id: 500, name: "newcomer", email: null, score: 42 });
  await page.context().close();
});

test("a read-only token sees editing refused in the grid and in the SQL editor", async () => {
  const page = await open(readOnly, `#/db/${db}/table/users`);
  assert.match(await page.getByTestId("role").textContent(), /ro.*read-only/);
  await page.getByTestId("read-only").waitFor();
  assert.equal(await page.getByRole("button", { name: "Add row" }).isDisabled(), true);
  assert.equal(await page.getByRole("button", { name: "delete row" }).count(), 0);
  await page.locator("[data-testid=rows] tbody tr").first().locator("td:nth-child(2)").dblclick();
  assert.equal(await page.getByLabel("edit name").count(), 0, "a double-click opens no editor");
  await shot(page, "07-read-only-grid");

  await page.getByRole("link", { name: "SQL", exact: true }).click();
  await page.locator(".cm-content").click();
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.type("UPDATE users SET name = 'hacked' WHERE id = 1");
  await page.getByRole("button", { name: "Run" }).click();
  await page.getByTestId("error").waitFor();
  assert.match(await page.getByTestId("error").textContent(), /permission_denied.*may not write/);
  await shot(page, "08-read-only-sql-refused");
  const row = await rest("GET", `/api/databases/${db}/tables/users/rows?filter=id:eq:1`, admin);
  assert.equal(row.body.rows[0][1], "Ada O'Brien", "nothing was written");
  // Reading still works for this token.
  await page.locator(".cm-content").click();
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.type("SELECT COUNT(*) AS n FROM users");
  await page.getByRole("button", { name: "Run" }).click();
  await page.getByTestId("result").getByText("1 row").waitFor();
  await page.context().close();
});

test("tenants are created and deleted, and migrations and health show", async () => {
  const kind = db.split(".")[0];
  const page = await open(admin, `#/tenants/${kind}`);
  await page.getByLabel("new tenant id").fill("acme");
  await page.getByRole("button", { name: "Create tenant" }).click();
  await page.getByTestId("tenants").getByRole("link", { name: "acme" }).waitFor();
  assert.ok((await rest("GET", `/api/adapters/${kind}/tenants`, admin)).body.tenants.includes("acme"));
  await shot(page, "09-tenants");
  await page.getByTestId("tenants").getByRole("row", { name: /acme/ }).getByRole("button", { name: "Delete" }).click();
  const confirm = page.getByRole("button", { name: "Delete acme and its data" });
  assert.equal(await confirm.isDisabled(), true, "deleting needs the id typed again");
  await page.getByLabel("confirm tenant id").fill("acme");
  await confirm.click();
  await page.getByTestId("tenants").getByRole("link", { name: "acme" }).waitFor({ state: "detached" });
  assert.ok(!(await rest("GET", `/api/adapters/${kind}/tenants`, admin)).body.tenants.includes("acme"));

  await page.getByRole("link", { name: "Migrations" }).click();
  await page.getByTestId("migration-summary").waitFor();
  assert.match(await page.getByTestId("migration-summary").textContent(), /^1 applied, 1 pending/);
  await shot(page, "10-migrations");
  // An admin applies the pending one and reverts it again, as `dbx migrate` would.
  await page.getByRole("button", { name: "Apply pending" }).click();
  await page.getByTestId("migration-report").getByText("Applied 2_later.").waitFor();
  await page.getByTestId("migration-summary").getByText(/^2 applied, 0 pending/).waitFor();
  assert.ok((await rest("GET", `/api/databases/${db}/tables/later`, admin)).status === 200);
  await page.getByRole("button", { name: "Revert the newest" }).click();
  await page.getByTestId("migration-report").getByText("Reverted 2_later.").waitFor();
  await page.getByTestId("migration-summary").getByText(/^1 applied, 1 pending/).waitFor();
  await page.getByRole("link", { name: "Health" }).click();
  await page.getByTestId("health-status").getByText("ok").waitFor();
  await shot(page, "11-health");
  await page.context().close();
});

test("a token limited to one tenant starts there and is offered only that tenant", async () => {
  const kind = db.split(".")[0];
  const page = await open(scoped);
  await page.waitForURL(new RegExp(`#/db/${kind}\\.scoped$`));
  await page.getByText("No tables yet").waitFor();
  const tenants = await page.getByLabel("tenant").locator("option").allTextContents();
  assert.deepEqual(tenants, ["scoped"], "neither the root database nor other tenants are offered");
  assert.match(await page.getByTestId("role").textContent(), /rw/);
  assert.equal(await page.locator(".badge.ro").count(), 0, "it may write its tenant");
  await page.getByRole("link", { name: "Tenants" }).click();
  await page.getByText("This token is limited to some tenants (scoped)").waitFor();
  // Its own tenant is writable through the Studio's SQL editor.
  await page.getByRole("link", { name: "SQL", exact: true }).click();
  await page.locator(".cm-content").click();
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.type("CREATE TABLE notes (id INTEGER PRIMARY KEY, body VARCHAR(100))");
  await page.getByRole("button", { name: "Run" }).click();
  await page.getByTestId("result").getByText("0 rows affected").waitFor();
  const tables = await rest("GET", `/api/databases/${kind}.scoped/tables`, scoped);
  assert.deepEqual(tables.body.tables.map((t) => t.name), ["notes"]);
  const root = await rest("GET", `/api/databases/${kind}/tables`, scoped);
  assert.equal(root.status, 403);
  await page.context().close();
});
