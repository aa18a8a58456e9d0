// Judges MessagePack Socket.IO packets with the reference, socket.io-msgpack-parser 3.0.2,
// for tests/test_msgpack.py's differential test.
// stdin: {"decode": ["<hex>", ...], "encode": [{"type", "nsp", "data", "id"}, ...]}
//   (binary inside "data" as {"$binary": "<hex>"})
// stdout: {"decode": [{"ok": true, "packet": {...}} | {"ok": false, "error": "..."}],
//          "encode": ["<hex>", ...]}
"use strict";
const path = require("path");
// argv[2] "v2": socket.io-msgpack-parser 2.x (Socket.IO 2.x), whose decoder takes a text
// message as JSON and a binary one as MessagePack
const parser = require(path.join(__dirname, "..", "..", "node", "node_modules",
  process.argv[2] === "v2" ? "socket.io-msgpack-parser-v2" : "socket.io-msgpack-parser"));

function revive(value) {
  if (Array.isArray(value)) return value.map(revive);
  if (value && typeof value === "object") {
    if (typeof value.$binary === "string") return Buffer.from(value.$binary, "hex");
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = revive(v);
    return out;
  }
  return value;
}

function plain(value) {
  if (value === undefined) return { $undefined: true };
  if (Buffer.isBuffer(value)) return { $binary: value.toString("hex") };
  if (value instanceof ArrayBuffer) return { $binary: Buffer.from(value).toString("hex") };
  if (value instanceof Date) return { $date: value.getTime() };
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === "object") {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = plain(v);
    return out;
  }
  if (typeof value === "number" && !Number.isFinite(value)) return { $number: String(value) };
  return value;
}

let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const request = JSON.parse(input);
  const decoded = (request.decode || []).map((hex) => {
    const decoder = new parser.Decoder();
    let packet = null;
    decoder.on("decoded", (p) => (packet = p));
    try {
      decoder.add(typeof hex === "string" ? Buffer.from(hex, "hex") : hex.text);
      return { ok: true, packet: plain(packet) };
    } catch (err) {
      return { ok: false, error: String(err && err.message) };
    }
  });
  const encoder = new parser.Encoder();
  const encoded = (request.encode || []).map((p) => {
    const packet = revive(p);
    let out;
    const result = encoder.encode(packet, (pieces) => { out = pieces; });  // 2.x: a callback
    const piece = (out || result)[0];
    return typeof piece === "string" ? { text: piece } : Buffer.from(piece).toString("hex");
  });
  process.stdout.write(JSON.stringify({ decode: decoded, encode: encoded }) + "\n");
});
