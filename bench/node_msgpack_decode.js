#!/usr/bin/env node
// The Node baseline for the MessagePack parser: socket.io-msgpack-parser's Decoder on the
// MessagePack corpus of bench/msgpack_decode.py (one base64 line per binary message).
//
//   node bench/node_msgpack_decode.js <corpus.txt> [repeats]
//
// Every message through Decoder.add, counting "decoded" events; the best of `repeats` runs
// (process.hrtime.bigint; the first runs warm the JIT up). Prints one JSON object.
"use strict";
const fs = require("fs");
const path = require("path");
const { createRequire } = require("module");

const nodeDir = path.join(__dirname, "..", "node");
const requireRef = createRequire(path.join(nodeDir, "package.json"));
const { Decoder } = requireRef("socket.io-msgpack-parser");

const [file, repeatsArg] = process.argv.slice(2);
const messages = fs.readFileSync(file, "utf8").split("\n").filter(Boolean)
  .map((line) => Buffer.from(line, "base64"));
const repeats = Number(repeatsArg || 5);
const times = [];
let decoded = 0;
for (let run = 0; run < repeats; run++) {
  const decoder = new Decoder();
  let count = 0;
  decoder.on("decoded", () => { count++; });
  const start = process.hrtime.bigint();
  for (const message of messages) decoder.add(message);
  times.push(Number(process.hrtime.bigint() - start) / 1e9);
  decoded = count;
}
const version = JSON.parse(fs.readFileSync(
  path.join(nodeDir, "node_modules", "socket.io-msgpack-parser", "package.json"), "utf8")).version;
process.stdout.write(JSON.stringify({ seconds: Math.min(...times), times, decoded,
                                      messages: messages.length, version }) + "\n");
