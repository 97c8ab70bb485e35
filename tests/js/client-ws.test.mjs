// @libsql/client over ws:// (it offers hrana2, hrana1) against the dbx server in DBX_HRANA_URL.
// Run by the Rust test `hrana::js` (through `cargo xtask test`), never on its own.
import { clientSuite } from "./client-suite.mjs";

const url = process.env.DBX_HRANA_URL;
if (!url) throw new Error("DBX_HRANA_URL is not set: run this through `cargo xtask test`");
clientSuite((process.env.DBX_HRANA_WS_URL ?? url.replace(/^http/, "ws")));
