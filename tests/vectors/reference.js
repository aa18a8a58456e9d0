"use strict";
/*
 * The Node reference parsers as a judge: run one input through them and describe the
 * outcome as plain JSON. Shared by generate.js (curated vectors) and judge.js (the
 * differential test's batch judge).
 *
 *   Engine.IO revision 4  engine.io-parser 5.2.3
 *   Engine.IO revision 3  engine.io-parser 2.2.1   (npm alias engine.io-parser-v3)
 *   Socket.IO protocol 5  socket.io-parser 4.2.7
 *   Socket.IO protocol 4  socket.io-parser 3.4.5   (npm alias socket.io-parser-v4)
 *
 * JSON conventions of the results (and of the inputs):
 *   {"$binary": "<base64>"}                       bytes (Buffer, ArrayBuffer, typed array)
 *   {"$number": "NaN" | "Infinity" | "-Infinity"}  numbers JSON cannot hold
 *   {"$undefined": true}                           an `undefined` inside decoded data
 *   {"$deep": <depth>}                             decoded data nested too deep to store
 *
 * The parsers are only observed, never changed: the two wrappers below record the base64
 * text handed to the base64 decoders, so that the judge can say when Node's lenient base64
 * decoding was needed to accept the input.
 */

const path = require("path");

const NODE_MODULES = path.join(__dirname, "..", "..", "node", "node_modules");
const load = (name) => require(path.join(NODE_MODULES, name));

const eio4 = load("engine.io-parser");
const eio4decodePacket = load("engine.io-parser/build/cjs/decodePacket.js");
const eio3 = load("engine.io-parser-v3");
const sio5 = load("socket.io-parser");
const sio4 = load("socket.io-parser-v4");

const VERSIONS = Object.fromEntries(
  ["engine.io-parser", "engine.io-parser-v3", "socket.io-parser", "socket.io-parser-v4"].map(
    (name) => [name, load(`${name}/package.json`).version],
  ),
);

// --- base64 observation ------------------------------------------------------------------

let base64Seen = [];

const originalEio4Decode = eio4decodePacket.decodePacket;
eio4decodePacket.decodePacket = function observedDecodePacket(encoded, binaryType) {
  if (typeof encoded === "string" && encoded.charAt(0) === "b") {
    base64Seen.push(encoded.substring(1));
  }
  return originalEio4Decode(encoded, binaryType);
};

const originalEio3Base64 = eio3.decodeBase64Packet;
eio3.decodeBase64Packet = function observedDecodeBase64Packet(msg, binaryType) {
  base64Seen.push(msg.substr(1));
  return originalEio3Base64(msg, binaryType);
};

/** True when `text` is canonical base64 of its own decoding, padded or unpadded. */
function isPlainBase64(text) {
  const canonical = Buffer.from(text, "base64").toString("base64");
  return text === canonical || text === canonical.replace(/=+$/, "");
}

// --- JSON encoding of results ----------------------------------------------------------

const MAX_STORED_DEPTH = 200; // deeper data would strain JSON readers of the vector files

function isBytes(value) {
  return value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

function bytesOf(value) {
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

function depthOf(value) {
  // iterative, so that absurdly deep input cannot overflow the stack here
  let max = 0;
  const stack = [[value, 1]];
  while (stack.length) {
    const [v, d] = stack.pop();
    if (v === null || typeof v !== "object" || isBytes(v)) continue;
    if (d > max) max = d;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}

/** A JSON-safe copy of a decoded value (see the conventions above). */
function toJSONValue(value) {
  if (value !== null && typeof value === "object" && !isBytes(value)) {
    const depth = depthOf(value);
    if (depth > MAX_STORED_DEPTH) return { $deep: depth };
  }
  return convert(value);
}

function convert(value) {
  if (value === undefined) return { $undefined: true };
  if (value === null) return null;
  if (typeof value === "number") {
    if (Number.isNaN(value)) return { $number: "NaN" };
    if (!Number.isFinite(value)) return { $number: value > 0 ? "Infinity" : "-Infinity" };
    return value;
  }
  if (typeof value !== "object") return value;
  if (isBytes(value)) return { $binary: bytesOf(value).toString("base64") };
  if (Array.isArray(value)) return Array.from(value, convert);
  const out = Object.create(null); // a "__proto__" key stays an ordinary key
  for (const key of Object.keys(value)) out[key] = convert(value[key]);
  return out;
}

/** The inverse for inputs: {"$binary": ...} becomes a Buffer, a string stays a string. */
function fromJSONInput(value) {
  if (typeof value === "string") return value;
  if (value && typeof value.$binary === "string") return Buffer.from(value.$binary, "base64");
  throw new Error(`an input must be a string or {"$binary": ...}, got ${JSON.stringify(value)}`);
}

// --- Engine.IO -------------------------------------------------------------------------

const isErrorPacket = (p) => p.type === "error" && p.data === "parser error";

function enginePacketJSON(p) {
  const out = { type: p.type === undefined ? null : p.type };
  if ("data" in p) out.data = convert(p.data);
  return out;
}

function sync(fn) {
  // the reference encoders are callback-style but call back synchronously
  let result;
  let called = false;
  fn((value) => {
    result = value;
    called = true;
  });
  if (!called) throw new Error("reference encoder did not call back synchronously");
  return result;
}

/**
 * Strict XHR2 framing (engine.io-parser 2.2.1 lib/index.js, decodePayloadAsBinary): the entries of the body, or a quirk message when
 * the body needs a reference leniency to be read at all.
 */
function xhr2Entries(body) {
  if (body.length === 0) return { quirk: "empty binary body (the reference yields zero packets)" };
  const entries = [];
  let pos = 0;
  while (pos < body.length) {
    if (body[pos] > 1) return { quirk: `entry marker 0x${body[pos].toString(16)} (not 0x00/0x01)` };
    let i = pos + 1;
    while (i < body.length && body[i] !== 0xff) {
      if (body[i] > 9) return { quirk: `length digit byte 0x${body[i].toString(16)} above 9` };
      i++;
    }
    if (i >= body.length) return { quirk: "no 0xff after the length digits" };
    if (i === pos + 1) return { quirk: "no length digits" };
    const length = Number(Array.from(body.subarray(pos + 1, i)).join(""));
    if (i + 1 + length > body.length) return { quirk: `entry length ${length} runs past the end` };
    entries.push({ text: body[pos] === 0, bytes: body.subarray(i + 1, i + 1 + length) });
    pos = i + 1 + length;
  }
  return { entries };
}

const strictUTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Reference leniencies an XHR2 body needs: [{xhr2: why}] or [{utf8: [entry index...]}]. */
function xhr2Quirks(body) {
  const { quirk, entries } = xhr2Entries(body);
  if (quirk) return [{ xhr2: quirk }];
  // text entries go through utf8.js non-strict, which turns encoded surrogates into U+FFFD
  const invalid = [];
  entries.forEach((entry, index) => {
    if (!entry.text) return;
    try {
      strictUTF8.decode(entry.bytes);
    } catch (e) {
      invalid.push(index);
    }
  });
  return invalid.length ? [{ utf8: invalid }] : [];
}

function engineDecode(eio, kind, input) {
  const packets = [];
  if (kind === "packet") {
    const p = eio === 3 ? eio3.decodePacket(input) : eio4.decodePacket(input, "nodebuffer");
    if (isErrorPacket(p)) return { packets, error: "parser error" };
    packets.push(p);
    return { packets, error: null };
  }
  if (eio === 4) {
    if (typeof input !== "string") throw new Error("revision 4 payloads are text");
    for (const p of eio4.decodePayload(input, "nodebuffer")) {
      if (isErrorPacket(p)) return { packets, error: "parser error" };
      packets.push(p);
    }
    return { packets, error: null };
  }
  let error = null;
  eio3.decodePayload(input, (p) => {
    if (error !== null) return false;
    if (isErrorPacket(p)) {
      error = "parser error";
      return false;
    }
    packets.push(p);
    return true;
  });
  return { packets, error };
}

function engineEncode(eio, kind, packets) {
  if (kind === "packet") {
    const [p] = packets;
    if (eio === 3) {
      return {
        ws: convert(sync((cb) => eio3.encodePacket(p, true, cb))),
        b64: convert(sync((cb) => eio3.encodePacket(p, false, cb))),
      };
    }
    return {
      ws: convert(sync((cb) => eio4.encodePacket(p, true, cb))),
      b64: convert(sync((cb) => eio4.encodePacket(p, false, cb))),
    };
  }
  if (eio === 3) {
    return {
      text: convert(sync((cb) => eio3.encodePayload(packets, false, cb))),
      binary: convert(sync((cb) => eio3.encodePayload(packets, true, cb))),
    };
  }
  return { text: convert(sync((cb) => eio4.encodePayload(packets, cb))) };
}

/**
 * Judge one Engine.IO input: {eio: 3|4, kind: "packet"|"payload", input}.
 *
 * verdict  "accept" or "reject"
 * packets  the packets decoded (on reject: the ones delivered before the error);
 *          {type: "open".."noop" | null (revision 3 quirk), data?}; no `data` = absent
 * error    the reference's error, or null
 * encoded  accepted only: what the reference encoders write for the decoded packets
 *          packet:  {ws: supportsBinary encoding, b64: base64 encoding}
 *          payload: {text: text payload, binary: (revision 3) binary-capable payload}
 * quirks   reference leniencies that siocli documents as deliberate deviations:
 *          {base64: [lenient base64 texts]}, {xhr2: "<framing problem>"} or
 *          {utf8: [indexes of XHR2 text entries that are not valid UTF-8]}
 */
function judgeEngine({ eio, kind, input }) {
  if (eio !== 3 && eio !== 4) throw new Error(`eio must be 3 or 4, got ${eio}`);
  if (kind !== "packet" && kind !== "payload") throw new Error(`bad kind ${kind}`);
  const data = fromJSONInput(input);
  base64Seen = [];
  const { packets, error } = engineDecode(eio, kind, data);
  const result = {
    verdict: error === null ? "accept" : "reject",
    packets: packets.map(enginePacketJSON),
    error,
  };
  const quirks = [];
  const lenient = base64Seen.filter((text) => !isPlainBase64(text));
  if (lenient.length) quirks.push({ base64: lenient });
  if (eio === 3 && kind === "payload" && typeof data !== "string") {
    quirks.push(...xhr2Quirks(data));
  }
  if (quirks.length) result.quirks = quirks;
  if (error === null && packets.every((p) => p.type !== undefined)) {
    result.encoded = engineEncode(eio, kind, packets);
  }
  return result;
}

// --- Socket.IO -------------------------------------------------------------------------

function socketPacketJSON(p, wireType, attachments) {
  const out = { type: wireType };
  if (wireType !== p.type) out.reported_type = p.type;
  if (p.nsp === undefined) {
    // socket.io-parser 3.x answers an unknown type with this namespace-less packet
    out.error_packet = true;
  } else {
    out.nsp = p.nsp;
  }
  if (p.id !== undefined) out.id = convert(p.id);
  if (p.data !== undefined) out.data = toJSONValue(p.data);
  out.attachments = attachments;
  return out;
}

function socketEncode(protocol, packet) {
  const parts =
    protocol === 5
      ? new sio5.Encoder().encode(packet)
      : sync((cb) => new sio4.Encoder().encode(packet, cb));
  return parts.map(convert);
}

/**
 * Judge one Socket.IO message sequence: {protocol: 4|5, messages: [text | {"$binary"}...]},
 * fed in order to one reference Decoder.
 *
 * verdict   "accept" (every message consumed, nothing pending), "incomplete" (a binary
 *           packet still awaits attachments) or "reject" (the decoder threw)
 * packets   decoded packets, in order: {type (wire type: 5/6 for binary packets),
 *           reported_type? (what the decoder reported when it differs: socket.io-parser 4.x
 *           reports reassembled binary packets as 2/3), nsp, id?, data?, attachments
 *           (the count announced in the header, 0 for other types), error_packet? (the
 *           ERROR packet socket.io-parser 3.x emits for an unknown type)}
 * encoded   "accept" only, per decoded packet: what the reference Encoder writes for it,
 *           [text, bytes...] ({"$error": message} if the Encoder throws)
 * pending   the header of the binary packet still awaiting attachments ("incomplete"), or
 *           being reassembled when the decoder threw ("reject"), if any
 * error     "reject" only: {message, index} (index of the message that threw)
 */
function judgeSocket({ protocol, messages }) {
  if (protocol !== 4 && protocol !== 5) throw new Error(`protocol must be 4 or 5, got ${protocol}`);
  const decoder = protocol === 5 ? new sio5.Decoder() : new sio4.Decoder();
  const decoded = []; // [packet object, its JSON description]
  let header = null; // wire facts of the binary packet being reassembled
  let current = null;
  decoder.on("decoded", (p) => {
    let wireType = p.type;
    let attachments = 0;
    if (typeof current !== "string") {
      wireType = header.type;
      attachments = header.attachments;
      header = null;
    }
    decoded.push([p, socketPacketJSON(p, wireType, attachments)]);
  });

  let error = null;
  for (let index = 0; index < messages.length; index++) {
    current = fromJSONInput(messages[index]);
    const before = decoder.reconstructor;
    try {
      decoder.add(current);
    } catch (e) {
      error = { message: e.message, index };
      break;
    }
    if (typeof current === "string" && decoder.reconstructor && decoder.reconstructor !== before) {
      const pack = decoder.reconstructor.reconPack;
      // socket.io-parser 4.2.x rewrites 5/6 to 2/3 before reassembly: undo it for the wire type
      const type = protocol === 5 ? (pack.type === 2 ? 5 : pack.type === 3 ? 6 : pack.type) : pack.type;
      const snapshot = socketPacketJSON(pack, type, pack.attachments);
      delete snapshot.reported_type;
      header = { type, attachments: pack.attachments, snapshot };
    }
  }

  const result = { verdict: "accept", packets: decoded.map(([, json]) => json) };
  if (error !== null) {
    result.verdict = "reject";
    result.error = error;
    if (header !== null) result.pending = header.snapshot;
  } else if (decoder.reconstructor) {
    result.verdict = "incomplete";
    result.pending = header.snapshot;
  } else {
    // encoded outside the decoder's call stack; the decoded objects are not used afterwards
    result.encoded = decoded.map(([p]) => {
      try {
        return socketEncode(protocol, p);
      } catch (e) {
        return { $error: e.message };
      }
    });
  }
  return result;
}

module.exports = { VERSIONS, judgeEngine, judgeSocket, toJSONValue };
