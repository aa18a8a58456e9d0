#!/usr/bin/env node
// The Node reference baseline: engine.io-parser + socket.io-parser on the benchmark corpus.
//
//   node bench/node_decode.js <corpus.jsonl> [repeats]
//
// Decode: every message in order through engine.io-parser's decodePacket, then, for message
// packets, socket.io-parser's Decoder (`add`, counting "decoded" events; binary packets are
// reassembled from their attachments by the Decoder).
// Encode: the packets decoded above back to wire messages: Encoder.encode (which finds binary
// values and emits the header and the attachments), then engine.io-parser's encodePacket per
// piece; Engine.IO control packets (ping, pong, open) through encodePacket only.
//
// Each is run `repeats` times, timed with process.hrtime.bigint; the best run is the figure
// (the first runs also warm up the JIT). Prints one JSON object on stdout.
"use strict";

const fs = require("fs");
const path = require("path");
const { createRequire } = require("module");

// The reference packages are installed under <repo>/node (see node/package.json).
const nodeDir = path.join(__dirname, "..", "node");
const requireRef = createRequire(path.join(nodeDir, "package.json"));
const { decodePacket, encodePacket } = requireRef("engine.io-parser");
const { Decoder, Encoder } = requireRef("socket.io-parser");

function version(name) {
  // read the file: the packages' "exports" do not list package.json
  const file = path.join(nodeDir, "node_modules", name, "package.json");
  return JSON.parse(fs.readFileSync(file, "utf8")).version;
}

function loadCorpus(file) {
  const lines = fs.readFileSync(file, "utf8").split("\n");
  const header = JSON.parse(lines[0]).header;
  const messages = [];
  let bytes = 0;
  for (let i = 1; i < lines.length; i++) {
    if (!lines[i]) continue;
    const item = JSON.parse(lines[i]);
    if (typeof item === "string") {
      messages.push(item);
      bytes += Buffer.byteLength(item, "utf8");
    } else {
      const buf = Buffer.from(item.b, "base64");
      messages.push(buf);
      bytes += buf.length;
    }
  }
  return { header, messages, bytes };
}

// --- decode ---------------------------------------------------------------------------------

function decodeAll(messages, keep) {
  const decoder = new Decoder();
  const out = keep ? [] : null;
  let complete = 0;
  decoder.on("decoded", (packet) => {
    complete++;
    if (out) out.push({ sio: packet });
  });
  for (let i = 0; i < messages.length; i++) {
    const packet = decodePacket(messages[i], "nodebuffer");
    if (packet.type === "message") {
      decoder.add(packet.data);
    } else if (packet.type === "error") {
      throw new Error(`engine.io-parser refused message ${i}`);
    } else if (out) {
      out.push({ eio: packet });
    }
  }
  return { complete, packets: out };
}

// --- encode ---------------------------------------------------------------------------------

function encodeAll(items) {
  const encoder = new Encoder();
  let pieces = 0;
  let bytes = 0;
  const sink = (encoded) => {
    pieces++;
    bytes += typeof encoded === "string" ? encoded.length : encoded.byteLength;
  };
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (item.sio !== undefined) {
      const encoded = encoder.encode(item.sio);
      for (let j = 0; j < encoded.length; j++) {
        encodePacket({ type: "message", data: encoded[j] }, true, sink);
      }
    } else {
      encodePacket(item.eio, true, sink);
    }
  }
  return { pieces, bytes };
}

// --- timing ---------------------------------------------------------------------------------

function best(fn, repeats) {
  const times = [];
  let result;
  for (let r = 0; r < repeats; r++) {
    const start = process.hrtime.bigint();
    result = fn();
    times.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  return { best: Math.min(...times), times, result };
}

function main() {
  const file = process.argv[2];
  const repeats = Math.max(1, parseInt(process.argv[3] || "5", 10));
  if (!file) {
    process.stderr.write("usage: node bench/node_decode.js <corpus.jsonl> [repeats]\n");
    process.exit(2);
  }
  const { header, messages, bytes } = loadCorpus(file);

  const decode = best(() => decodeAll(messages, false), repeats);
  // The packets to encode: what the reference decoder made of the corpus.
  const items = decodeAll(messages, true).packets;
  const encode = best(() => encodeAll(items), repeats);

  const report = {
    node: process.version,
    engine_io_parser: version("engine.io-parser"),
    socket_io_parser: version("socket.io-parser"),
    corpus_sha256: header.sha256,
    messages: messages.length,
    wire_bytes: bytes,
    repeats,
    decode: { seconds: decode.best, times: decode.times, complete_packets: decode.result.complete },
    encode: {
      seconds: encode.best,
      times: encode.times,
      messages: encode.result.pieces,
      // UTF-16 code units for text, bytes for binary: a size check, not a throughput base
      size: encode.result.bytes,
    },
  };
  process.stdout.write(JSON.stringify(report) + "\n");
}

main();
