// @libsql/hrana-client over HTTP with protocolVersion 3: it probes /v3-protobuf and, finding
// it, speaks version 3 protobuf (pipelines and cursors).
import { hranaSuite } from "./hrana-suite.mjs";
import * as hrana from "@libsql/hrana-client";

const url = process.env.DBX_HRANA_URL;
if (!url) throw new Error("DBX_HRANA_URL is not set: run this through `cargo xtask test`");
hranaSuite("http protobuf", () => hrana.openHttp(url, undefined, undefined, undefined, 3), (_client, stream) => stream, 3);
