// @libsql/hrana-client over HTTP with protocolVersion 3. The client probes only
// /v3-protobuf; dbx does not offer protobuf yet, so the client falls back to version 2 JSON
// and the v3-only tests are skipped here (they run over WebSocket).
import { hranaSuite } from "./hrana-suite.mjs";
import * as hrana from "@libsql/hrana-client";

const url = process.env.DBX_HRANA_URL;
if (!url) throw new Error("DBX_HRANA_URL is not set: run this through `cargo xtask test`");
hranaSuite("http", () => hrana.openHttp(url, undefined, undefined, undefined, 3), (_client, stream) => stream, 2);
