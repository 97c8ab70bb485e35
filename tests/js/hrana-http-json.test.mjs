// @libsql/hrana-client over HTTP against a server with protobuf switched off: the client's
// /v3-protobuf probe gets 404, so it falls back to version 2 JSON, and the v3-only tests are
// skipped here (they run over protobuf and WebSocket).
import { hranaSuite } from "./hrana-suite.mjs";
import * as hrana from "@libsql/hrana-client";

const url = process.env.DBX_HRANA_URL;
if (!url) throw new Error("DBX_HRANA_URL is not set: run this through `cargo xtask test`");
hranaSuite("http json", () => hrana.openHttp(url, undefined, undefined, undefined, 3), (_client, stream) => stream, 2);
