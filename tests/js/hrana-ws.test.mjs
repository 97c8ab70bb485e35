// @libsql/hrana-client over WebSocket with protocolVersion 3 (hrana3, JSON).
import { hranaSuite } from "./hrana-suite.mjs";
import * as hrana from "@libsql/hrana-client";

const url = process.env.DBX_HRANA_URL;
if (!url) throw new Error("DBX_HRANA_URL is not set: run this through `cargo xtask test`");
hranaSuite("ws hrana3", () => hrana.openWs((process.env.DBX_HRANA_WS_URL ?? url.replace(/^http/, "ws")), undefined, 3), (client) => client, 3);
