// What the Node test clients share: the socket.io client of a version, and JSON output.
"use strict";
const path = require("path");
const modules = path.join(__dirname, "..", "..", "node", "node_modules");

// socket.io-client 4.x, or 2.x (Engine.IO 3)
const client = (version) =>
  require(path.join(modules, version === 2 ? "socket.io-client-v2" : "socket.io-client"));

// one JSON line per thing observed
const out = (record) => process.stdout.write(JSON.stringify(record) + "\n");

// a value as JSON can carry it: binary as {"$binary": "<hex>"}
const show = (value) =>
  Buffer.isBuffer(value) || value instanceof ArrayBuffer
    ? { $binary: Buffer.from(value).toString("hex") }
    : Array.isArray(value) ? value.map(show)
    : value && typeof value === "object"
      ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, show(v)]))
      : value;

module.exports = { client, out, show };
