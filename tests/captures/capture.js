#!/usr/bin/env node
// Records real Socket.IO sessions through a byte-exact proxy and writes decoder fixtures.
//
//   node tests/captures/capture.js [--only node4-upgrade,psio-polling] [--raw DIR] [--no-verify]
//
// For each server (Node socket.io 4.8.4, Node socket.io 2.5.1, python-socketio under uvicorn)
// and each transport mode (polling then upgrade, websocket only, polling only; for 2.x also
// polling with the stock base64-only Node XHR) a real client
// (socket.io-client 4.8.4, or 2.5.0 for the 2.x server) plays a fixed scenario against the
// server through a recording TCP proxy on 127.0.0.1. The proxy forwards bytes untouched and
// parses both directions on the side: HTTP/1.1 exchanges, then WebSocket frames after a 101.
// From each recording it writes into tests/data/captures/:
//
//   <name>.chrome.har   Chrome/Edge DevTools HAR 1.2 (with _resourceType, _webSocketMessages)
//   <name>.firefox.har  Firefox DevTools HAR 1.2 (no WebSocket messages: Firefox exports none)
//   <name>.txt          a transcript in the style of the Socket.IO docs' sample session,
//                       told in the order things happened (frames interleaved)
//   <name>.wire.json    the ground truth: every polling body and WebSocket message, in order
//
// The raw TCP streams go to --raw DIR (default: $TMPDIR/siocli-captures-raw); verify.py then
// re-parses them independently and checks every fixture against them byte for byte.
// See tests/captures/README.md.
'use strict';

const fs = require('fs');
const net = require('net');
const http = require('http');
const os = require('os');
const path = require('path');
const zlib = require('zlib');
const Module = require('module');
const { spawn, spawnSync } = require('child_process');

const REPO = path.resolve(__dirname, '..', '..');
const NODE_MODULES = path.join(REPO, 'node', 'node_modules');
const OUT_DIR = path.join(REPO, 'tests', 'data', 'captures');
const PYTHON = path.join(REPO, '.venv', 'bin', 'python');
const HOST = '127.0.0.1';
// A fixed proxy port keeps Host headers and URLs stable between runs.
const PROXY_PORT = Number(process.env.SIOCLI_CAPTURE_PORT || 47311);
const PING_INTERVAL = 300;
const PING_TIMEOUT = 500;

const nodeModule = (name) => require(path.join(NODE_MODULES, name));
const now = () => performance.timeOrigin + performance.now(); // wall clock, ms, sub-ms precision
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function versionOf(dir) {
  return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
}

// ---------------------------------------------------------------------------------------
// Recording proxy
// ---------------------------------------------------------------------------------------

const CRLF2 = Buffer.from('\r\n\r\n');

function parseHead(buf) {
  const lines = buf.toString('latin1').split('\r\n').filter((line) => line !== '');
  const headers = lines.slice(1).map((line) => {
    const i = line.indexOf(':');
    return [line.slice(0, i), line.slice(i + 1).trim()];
  });
  return { start: lines[0], headers };
}

function header(headers, name) {
  const found = headers.find(([n]) => n.toLowerCase() === name);
  return found ? found[1] : undefined;
}

// Body framing per RFC 9112 §6.3, for the cases these servers produce.
// Returns {body, consumed} once complete, or null while more bytes are needed.
function takeBody(buf, framing) {
  if (framing.type === 'none') return { body: Buffer.alloc(0), consumed: 0 };
  if (framing.type === 'length') {
    return buf.length >= framing.length
      ? { body: buf.subarray(0, framing.length), consumed: framing.length }
      : null;
  }
  if (framing.type === 'chunked') {
    const parts = [];
    let pos = 0;
    for (;;) {
      const eol = buf.indexOf('\r\n', pos);
      if (eol < 0) return null;
      const size = parseInt(buf.toString('latin1', pos, eol).split(';')[0], 16);
      pos = eol + 2;
      if (size === 0) {
        const end = buf.indexOf(CRLF2.subarray(0, 2), pos); // no trailers expected
        if (end < 0) return null;
        return { body: Buffer.concat(parts), consumed: end + 2 };
      }
      if (buf.length < pos + size + 2) return null;
      parts.push(buf.subarray(pos, pos + size));
      pos += size + 2;
    }
  }
  return null; // 'close': complete when the connection ends
}

function requestFraming(headers) {
  const te = header(headers, 'transfer-encoding');
  if (te && /chunked/i.test(te)) return { type: 'chunked' };
  const cl = header(headers, 'content-length');
  return cl !== undefined ? { type: 'length', length: Number(cl) } : { type: 'none' };
}

function responseFraming(method, status, headers) {
  if (method === 'HEAD' || status === 204 || status === 304 || status < 200) return { type: 'none' };
  return requestFraming(headers).type === 'none' ? { type: 'close' } : requestFraming(headers);
}

// permessage-deflate (RFC 7692): with context takeover every message continues one raw
// deflate stream; inflating the whole history and keeping the new tail needs no async zlib.
class Inflater {
  constructor(contextTakeover) {
    this.contextTakeover = contextTakeover;
    this.history = [];
    this.outLength = 0;
  }

  inflate(payload) {
    const tail = Buffer.from([0x00, 0x00, 0xff, 0xff]);
    const options = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
    if (!this.contextTakeover) return zlib.inflateRawSync(Buffer.concat([payload, tail]), options);
    this.history.push(payload, tail);
    const all = zlib.inflateRawSync(Buffer.concat(this.history), options);
    const out = all.subarray(this.outLength);
    this.outLength = all.length;
    return Buffer.from(out);
  }
}

class WsParser {
  constructor(exchange, dir, inflater) {
    this.exchange = exchange;
    this.dir = dir; // 'send' (client to server) or 'receive' (server to client), as Chrome says
    this.inflater = inflater;
    this.buf = Buffer.alloc(0);
    this.fragments = null;
  }

  feed(chunk, t) {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      const b = this.buf;
      if (b.length < 2) return;
      const fin = (b[0] & 0x80) !== 0;
      const rsv1 = (b[0] & 0x40) !== 0;
      const opcode = b[0] & 0x0f;
      const masked = (b[1] & 0x80) !== 0;
      let length = b[1] & 0x7f;
      let pos = 2;
      if (length === 126) {
        if (b.length < 4) return;
        length = b.readUInt16BE(2);
        pos = 4;
      } else if (length === 127) {
        if (b.length < 10) return;
        length = Number(b.readBigUInt64BE(2));
        pos = 10;
      }
      const key = masked ? b.subarray(pos, pos + 4) : null;
      if (masked) pos += 4;
      if (b.length < pos + length) return;
      const payload = Buffer.from(b.subarray(pos, pos + length));
      if (key) for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
      this.buf = b.subarray(pos + length);
      this.frame({ fin, rsv1, opcode, payload, t });
    }
  }

  frame(f) {
    const ex = this.exchange;
    if (f.opcode >= 8) return; // close, ping, pong: DevTools shows none of them
    if (f.opcode !== 0) this.fragments = { opcode: f.opcode, compressed: f.rsv1, parts: [], frames: 0 };
    const m = this.fragments;
    m.parts.push(f.payload);
    m.frames += 1;
    if (!f.fin) return;
    this.fragments = null;
    const wire = Buffer.concat(m.parts);
    const data = m.compressed ? this.inflater.inflate(wire) : wire;
    ex.messages.push({
      dir: this.dir,
      time: f.t,
      opcode: m.opcode,
      data,
      compressed: m.compressed,
      frames: m.frames,
    });
  }
}

function deflateParams(extensions) {
  if (!extensions || !/permessage-deflate/i.test(extensions)) return null;
  return {
    serverContextTakeover: !/server_no_context_takeover/i.test(extensions),
    clientContextTakeover: !/client_no_context_takeover/i.test(extensions),
  };
}

// One proxied TCP connection: HTTP/1.1 exchanges in both directions, WebSocket after a 101.
class Connection {
  constructor(recording, id) {
    this.recording = recording;
    this.raw = { id, acceptedAt: now(), c2s: [], s2c: [] };
    recording.connections.push(this.raw);
    this.reqBuf = Buffer.alloc(0);
    this.resBuf = Buffer.alloc(0);
    this.reqStartT = null;
    this.resStartT = null;
    this.pendingReq = null; // head parsed, body incomplete
    this.pendingRes = null;
    this.waiting = []; // exchanges whose request is complete and whose response is not
    this.ws = null;
    this.count = 0;
  }

  fromClient(chunk, t) {
    this.raw.c2s.push({ t, data: chunk });
    if (this.ws) return this.ws.send.feed(chunk, t);
    if (!this.reqBuf.length) this.reqStartT = t;
    this.reqBuf = Buffer.concat([this.reqBuf, chunk]);
    for (;;) {
      if (!this.pendingReq) {
        const end = this.reqBuf.indexOf(CRLF2);
        if (end < 0) return;
        const headRaw = this.reqBuf.subarray(0, end + 4);
        const { start, headers } = parseHead(headRaw);
        const [method, target, httpVersion] = start.split(' ');
        const ex = {
          id: this.recording.exchanges.length,
          connId: this.raw.id,
          firstOnConnection: this.count++ === 0,
          connAcceptedAt: this.raw.acceptedAt,
          startedAt: this.reqStartT,
          method,
          target,
          httpVersion,
          reqHeadRaw: headRaw,
          reqHeaders: headers,
          messages: [],
        };
        this.recording.exchanges.push(ex);
        this.pendingReq = { ex, framing: requestFraming(headers) };
        this.reqBuf = this.reqBuf.subarray(end + 4);
      }
      const got = takeBody(this.reqBuf, this.pendingReq.framing);
      if (!got) return;
      const { ex } = this.pendingReq;
      ex.reqBody = Buffer.from(got.body);
      ex.reqEndAt = t;
      this.reqBuf = this.reqBuf.subarray(got.consumed);
      this.reqStartT = this.reqBuf.length ? t : null;
      this.pendingReq = null;
      this.waiting.push(ex);
    }
  }

  fromServer(chunk, t) {
    this.raw.s2c.push({ t, data: chunk });
    if (this.ws) return this.ws.receive.feed(chunk, t);
    if (!this.resBuf.length) this.resStartT = t;
    this.resBuf = Buffer.concat([this.resBuf, chunk]);
    for (;;) {
      if (!this.pendingRes) {
        const end = this.resBuf.indexOf(CRLF2);
        if (end < 0) return;
        const ex = this.waiting.shift();
        if (!ex) throw new Error(`connection ${this.raw.id}: response without a request`);
        const headRaw = this.resBuf.subarray(0, end + 4);
        const { start, headers } = parseHead(headRaw);
        const m = /^(HTTP\/\d\.\d) (\d{3}) ?(.*)$/.exec(start);
        Object.assign(ex, {
          resHttpVersion: m[1],
          status: Number(m[2]),
          statusText: m[3],
          resHeadRaw: headRaw,
          resHeaders: headers,
          resStartAt: this.resStartT,
        });
        this.resBuf = this.resBuf.subarray(end + 4);
        if (ex.status === 101) return this.upgrade(ex, t);
        this.pendingRes = { ex, framing: responseFraming(ex.method, ex.status, headers) };
      }
      const got = takeBody(this.resBuf, this.pendingRes.framing);
      if (!got) return;
      this.finishResponse(got.body, got.consumed, t);
    }
  }

  finishResponse(body, consumed, t) {
    const { ex } = this.pendingRes;
    ex.resBody = Buffer.from(body);
    ex.resBodyRaw = Buffer.from(this.resBuf.subarray(0, consumed));
    ex.resEndAt = t;
    this.resBuf = this.resBuf.subarray(consumed);
    this.resStartT = this.resBuf.length ? t : null;
    this.pendingRes = null;
  }

  upgrade(ex, t) {
    ex.kind = 'websocket';
    ex.resBody = Buffer.alloc(0);
    ex.resBodyRaw = Buffer.alloc(0);
    ex.resEndAt = t;
    const deflate = deflateParams(header(ex.resHeaders, 'sec-websocket-extensions'));
    ex.deflate = deflate;
    this.ws = {
      send: new WsParser(ex, 'send', new Inflater(!deflate || deflate.clientContextTakeover)),
      receive: new WsParser(ex, 'receive', new Inflater(!deflate || deflate.serverContextTakeover)),
    };
    const rest = this.resBuf;
    this.resBuf = Buffer.alloc(0);
    if (rest.length) this.ws.receive.feed(rest, t);
    if (this.reqBuf.length) {
      const early = this.reqBuf;
      this.reqBuf = Buffer.alloc(0);
      this.ws.send.feed(early, t);
    }
  }

  closed(t) {
    if (this.pendingRes && this.pendingRes.framing.type === 'close') {
      this.finishResponse(this.resBuf, this.resBuf.length, t);
    }
    const ex = this.ws && this.ws.send.exchange;
    if (ex) ex.tcpClosedAt = t;
  }
}

class Recording {
  constructor() {
    this.connections = [];
    this.exchanges = [];
  }

  // Every request answered, every WebSocket closed.
  settled() {
    return this.exchanges.every((ex) =>
      ex.kind === 'websocket' ? ex.tcpClosedAt !== undefined : ex.resEndAt !== undefined,
    );
  }
}

function startProxy(targetPort, recording) {
  const sockets = new Set();
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    const conn = new Connection(recording, recording.connections.length + 1);
    const upstream = net.connect({ host: HOST, port: targetPort, allowHalfOpen: true });
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      sockets.add(s);
    }
    let open = 2;
    const onClose = () => {
      if (--open === 0) conn.closed(now());
    };
    client.on('data', (chunk) => {
      upstream.write(chunk);
      conn.fromClient(chunk, now());
    });
    upstream.on('data', (chunk) => {
      client.write(chunk);
      conn.fromServer(chunk, now());
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => {
      sockets.delete(client);
      upstream.destroy();
      onClose();
    });
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.destroy();
      onClose();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(PROXY_PORT, HOST, () =>
      resolve({
        port: server.address().port,
        close: () =>
          new Promise((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      }),
    );
  });
}

// ---------------------------------------------------------------------------------------
// Servers
// ---------------------------------------------------------------------------------------

function listen(httpServer) {
  return new Promise((resolve) => httpServer.listen(0, HOST, () => resolve(httpServer.address().port)));
}

async function startNode4() {
  const { Server } = nodeModule('socket.io');
  const httpServer = http.createServer();
  const io = new Server(httpServer, { pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT });
  io.on('connection', (socket) => {
    socket.emit('welcome', socket.id);
    socket.on('hello', (a, b, ack) => ack('hi', { got: [a, b] }));
  });
  const admin = io.of('/admin');
  admin.use((socket, next) =>
    socket.handshake.auth.token === 'secret-token' ? next() : next(new Error('bad token')),
  );
  admin.on('connection', (socket) => {
    socket.on('upload', (buf, meta, ack) => {
      ack({ ok: true, size: buf.length, echo: buf }, meta.name);
      socket.emit('server-bin', Buffer.from([4, 5, 6]), {
        thumb: Buffer.from([7, 8]),
        label: 'from server',
      });
      socket.emit('question', 'ready?', (...answer) => socket.emit('answer-received', answer));
    });
  });
  io.of('/private').use((socket, next) => {
    const err = new Error('not authorized');
    err.data = { code: 42 };
    next(err);
  });
  const port = await listen(httpServer);
  return { port, close: () => new Promise((resolve) => io.close(() => resolve())) };
}

async function startNode2() {
  const makeServer = nodeModule('socket.io-v2');
  const httpServer = http.createServer();
  const io = makeServer(httpServer, { pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT });
  io.on('connection', (socket) => {
    socket.emit('welcome', socket.id);
    socket.on('hello', (a, b, ack) => ack('hi', { got: [a, b] }));
  });
  const admin = io.of('/admin');
  admin.use((socket, next) =>
    socket.handshake.query.token === 'secret-token' ? next() : next(new Error('bad token')),
  );
  admin.on('connection', (socket) => {
    socket.on('upload', (buf, meta, ack) => {
      ack({ ok: true, size: buf.length, echo: buf }, meta.name);
      socket.emit('server-bin', Buffer.from([4, 5, 6]), {
        thumb: Buffer.from([7, 8]),
        label: 'from server',
      });
      socket.emit('question', 'ready?', (...answer) => socket.emit('answer-received', answer));
    });
  });
  io.of('/private').use((socket, next) => next(new Error('not authorized')));
  const port = await listen(httpServer);
  return {
    port,
    close: () =>
      new Promise((resolve) => {
        io.close();
        httpServer.close(() => resolve());
      }),
  };
}

async function freePort() {
  const probe = net.createServer();
  await new Promise((resolve) => probe.listen(0, HOST, resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

async function waitForPort(port, child, deadline) {
  while (now() < deadline) {
    if (child.exitCode !== null) throw new Error(`psio_server.py exited with ${child.exitCode}`);
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, HOST, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error('python-socketio server did not start');
}

async function startPsio() {
  const port = await freePort();
  const child = spawn(PYTHON, [path.join(__dirname, 'psio_server.py'), String(port)], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  await waitForPort(port, child, now() + 15000);
  return {
    port,
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

// ---------------------------------------------------------------------------------------
// Clients: one scenario, two client generations
// ---------------------------------------------------------------------------------------

function once(emitter, event, ms = 10000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for '${event}'`)), ms);
    emitter.once(event, (...args) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

function emitWithAck(socket, ...args) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ack for '${args[0]}'`)), 10000);
    socket.emit(...args, (...answer) => {
      clearTimeout(timer);
      resolve(answer);
    });
  });
}

// socket.io-client 2.x polls through engine.io-client 3.x, whose Node build uses
// xmlhttprequest-ssl: no XHR2 (no responseType), so it asks for base64 (`b64=1`) and never sends
// or receives the binary (XHR2) payloads a browser does. For browser-like sessions its
// transports/xmlhttprequest.js module is replaced by xhr2, an XMLHttpRequest Level 2 for Node,
// whose ArrayBuffer responses are handed over as Buffers (the Node build of engine.io-parser
// 2.x decodes Buffers, the browser build ArrayBuffers); the `polling-b64` session keeps the
// stock module. The client is loaded afresh for every session.
class Xhr2WithBuffers extends nodeModule('xhr2') {
  _parseResponse() {
    super._parseResponse();
    if (this.response instanceof ArrayBuffer) this.response = Buffer.from(this.response);
  }
}

function loadClientV2(xhr2) {
  const dir = path.join(NODE_MODULES, 'socket.io-client-v2') + path.sep;
  for (const file of Object.keys(require.cache)) if (file.startsWith(dir)) delete require.cache[file];
  if (xhr2) {
    const file = require.resolve(
      path.join(dir, 'node_modules', 'engine.io-client', 'lib', 'transports', 'xmlhttprequest.js'),
    );
    const shim = new Module(file);
    shim.filename = file;
    shim.loaded = true;
    shim.exports = Xhr2WithBuffers;
    require.cache[file] = shim;
  }
  return nodeModule('socket.io-client-v2');
}

const TRANSPORTS = {
  upgrade: ['polling', 'websocket'],
  websocket: ['websocket'],
  polling: ['polling'],
  'polling-b64': ['polling'],
};

// The scenario, in order (the websocket-only session skips /private):
//  1. connect "/"; the server emits welcome(<socket id>)
//  2. emit hello("world", 42) with an ack; the server acks ("hi", {got: [...]})
//  3. connect /admin with credentials (v4/v5: auth; v2: namespace query)
//  4. emit upload(<01 02 03>, {name, thumb: <ca fe>}) with an ack; the server acks with
//     binary, emits server-bin(<04 05 06>, {thumb: <07 08>}) and question("ready?") asking
//     for an ack; the client answers ("yes", 7); the server echoes answer-received
//  5. connect /private: refused by the server
//  6. stay connected until `keepUntil` for a few heartbeats, then disconnect every namespace
async function scenario(generation, base, mode, keepMs, log) {
  const t0 = Date.now();
  const keepUntil = t0 + keepMs;
  const opts = { transports: TRANSPORTS[mode], reconnection: false, timeout: 5000 };
  let manager;
  let root;
  if (generation === 4) {
    const { Manager } = nodeModule('socket.io-client');
    manager = new Manager(base, opts);
    root = manager.socket('/');
  } else {
    root = loadClientV2(mode !== 'polling-b64')(base, { ...opts, forceNew: true });
    manager = root.io;
  }
  const engineClosed = new Promise((resolve) => {
    manager.on('open', () => manager.engine.once('close', resolve));
  });

  const [welcome] = await once(root, 'welcome');
  log(`welcome ${welcome}`);
  log(`hello ack ${JSON.stringify(await emitWithAck(root, 'hello', 'world', 42))}`);

  const admin =
    generation === 4
      ? manager.socket('/admin', { auth: { token: 'secret-token' } })
      : manager.socket('/admin', { query: { token: 'secret-token' } });
  admin.on('question', (q, cb) => cb('yes', 7));
  const serverBin = once(admin, 'server-bin');
  const answered = once(admin, 'answer-received');
  for (const p of [serverBin, answered]) p.catch(() => {}); // awaited below
  await once(admin, 'connect');
  const uploadAck = await emitWithAck(admin, 'upload', Buffer.from([1, 2, 3]), {
    name: 'file.bin',
    thumb: Buffer.from([0xca, 0xfe]),
  });
  log(`upload ack ${JSON.stringify(uploadAck)}`);
  log(`server-bin ${JSON.stringify(await serverBin)}`);
  log(`answer-received ${JSON.stringify(await answered)}`);

  const sockets = [admin, root];
  if (mode !== 'websocket') {
    const priv = manager.socket('/private');
    const [err] = await once(priv, generation === 4 ? 'connect_error' : 'error');
    const refusal = generation === 4 ? { message: err.message, data: err.data } : err;
    log(`/private refused: ${JSON.stringify(refusal)}`);
    if (generation === 2) sockets.unshift(priv); // v2 keeps the refused socket until closed
  }

  await sleep(Math.max(0, keepUntil - Date.now()));
  for (const s of sockets) s.disconnect();
  await Promise.race([engineClosed, sleep(3000)]);
}

// ---------------------------------------------------------------------------------------
// Fixture writers
// ---------------------------------------------------------------------------------------

const iso = (ms) => new Date(ms).toISOString();
const round3 = (x) => Math.round(x * 1000) / 1000;

// Firefox writes local time with an offset (dateToHarString in har-builder.js).
function firefoxDate(ms) {
  const d = new Date(ms);
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  const offset = -d.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}` +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}

function contentBody(ex) {
  const encoding = (header(ex.resHeaders, 'content-encoding') || '').toLowerCase();
  if (encoding === 'gzip') return zlib.gunzipSync(ex.resBody);
  if (encoding === 'deflate') return zlib.inflateSync(ex.resBody);
  if (encoding === 'br') return zlib.brotliDecompressSync(ex.resBody);
  return ex.resBody;
}

const mimeOf = (contentType) => (contentType || '').split(';')[0].trim().toLowerCase();
const isTextMime = (mime) =>
  mime.startsWith('text/') || mime === 'application/json' || mime === 'application/javascript';

function isUtf8(buf) {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(buf);
    return true;
  } catch {
    return false;
  }
}

function queryString(url) {
  return [...new URL(url).searchParams].map(([name, value]) => ({ name, value }));
}

function parseSetCookie(value) {
  const [pair, ...attrs] = value.split(';').map((s) => s.trim());
  const eq = pair.indexOf('=');
  const cookie = { name: pair.slice(0, eq), value: pair.slice(eq + 1), path: '/', domain: HOST };
  for (const attr of attrs) {
    const [k, v] = attr.split('=');
    const key = k.toLowerCase();
    if (key === 'path') cookie.path = v;
    else if (key === 'httponly') cookie.httpOnly = true;
    else if (key === 'secure') cookie.secure = true;
    else if (key === 'samesite') cookie.sameSite = v;
    else if (key === 'expires') cookie.expires = new Date(v).toISOString();
  }
  return cookie;
}

function responseCookies(ex) {
  return ex.resHeaders.filter(([n]) => n.toLowerCase() === 'set-cookie').map(([, v]) => parseSetCookie(v));
}

const harHeaders = (headers) => headers.map(([name, value]) => ({ name, value }));

function entryUrl(ex, base, scheme) {
  return `${scheme}://${new URL(base).host}${ex.target}`;
}

// Timings as both exporters break them down: a new connection spends "connect" from the
// proxy's accept to the first request byte; then send, wait (to the first response byte)
// and receive (to the last response byte).
function phases(ex) {
  const connect = ex.firstOnConnection ? ex.startedAt - ex.connAcceptedAt : -1;
  return {
    issued: ex.firstOnConnection ? ex.connAcceptedAt : ex.startedAt,
    connect,
    send: ex.reqEndAt - ex.startedAt,
    wait: ex.resStartAt - ex.reqEndAt,
    receive: ex.resEndAt - ex.resStartAt,
  };
}

// Chrome DevTools' shape: front_end/models/har/Log.ts (Entry.build) and Writer.ts, checked
// against real exports (an XHR entry of Chrome 106, a WebSocket entry of Chrome 133).
function chromeEntry(ex, base) {
  const p = phases(ex);
  const ws = ex.kind === 'websocket';
  let timings;
  if (ws) {
    // Chrome has no network timing for the handshake: all of it is "wait".
    const wait = round3(ex.resStartAt - p.issued);
    timings = { blocked: -1, dns: -1, ssl: -1, connect: -1, send: 0, wait, receive: 0, _blocked_queueing: -1 };
  } else {
    timings = {
      blocked: 0,
      dns: ex.firstOnConnection ? 0 : -1,
      ssl: -1,
      connect: ex.firstOnConnection ? round3(p.connect) : -1,
      send: round3(p.send),
      wait: round3(p.wait),
      receive: round3(p.receive),
      _blocked_queueing: 0,
    };
  }
  const time = round3(
    [timings.blocked, timings.dns, timings.connect, timings.send, timings.wait, timings.receive]
      .filter((t) => t > 0)
      .reduce((a, b) => a + b, 0),
  );
  const request = {
    method: ex.method,
    url: entryUrl(ex, base, ws ? 'ws' : 'http'),
    httpVersion: ex.httpVersion,
    headers: harHeaders(ex.reqHeaders),
    queryString: queryString(entryUrl(ex, base, 'http')),
    cookies: [],
    headersSize: ex.reqHeadRaw.length,
    bodySize: 0,
  };
  if (ex.reqBody.length) {
    // Chrome exports request bodies as text (Network.getRequestPostData): bytes that are not
    // UTF-8 come out through Chromium's Latin-1 fallback, one character per byte; bodySize is
    // then the UTF-8 length of that text (Log.ts requestBodySize), not the bytes sent.
    const text = isUtf8(ex.reqBody) ? ex.reqBody.toString('utf8') : ex.reqBody.toString('latin1');
    request.bodySize = Buffer.byteLength(text, 'utf8');
    request.postData = { mimeType: header(ex.reqHeaders, 'content-type') || '', text };
  }
  const body = contentBody(ex);
  const mime = mimeOf(header(ex.resHeaders, 'content-type'));
  const headersSize = ex.resHeadRaw.length;
  const transferSize = ws ? 0 : headersSize + ex.resBodyRaw.length;
  const bodySize = transferSize - headersSize;
  const content = { size: body.length, mimeType: mime || 'x-unknown', compression: body.length - bodySize };
  if (!ws) {
    // Writer.ts: binary resources come base64-encoded from Network.getResponseBody.
    if (isTextMime(mime) && isUtf8(body)) content.text = body.toString('utf8');
    else {
      content.text = body.toString('base64');
      content.encoding = 'base64';
    }
  }
  const entry = {
    _initiator: { type: 'other' },
    _priority: ws ? null : 'High',
    _resourceType: ws ? 'websocket' : 'xhr',
  };
  if (ws) {
    entry._webSocketMessages = ex.messages.map((m) => ({
      type: m.dir,
      time: Math.round(m.time * 1000) / 1e6, // seconds since the epoch, microseconds
      opcode: m.opcode,
      data: m.opcode === 2 ? m.data.toString('base64') : m.data.toString('utf8'),
    }));
  }
  entry.cache = {};
  if (!ws) entry.connection = String(ex.connId);
  Object.assign(entry, {
    pageref: 'page_1',
    request,
    response: {
      status: ex.status,
      statusText: ws ? '' : ex.statusText,
      httpVersion: ex.resHttpVersion,
      headers: harHeaders(ex.resHeaders),
      cookies: responseCookies(ex).map((c) => ({
        name: c.name,
        value: c.value,
        path: c.path,
        domain: c.domain,
        expires: c.expires || '1969-12-31T23:59:59.000Z',
        httpOnly: Boolean(c.httpOnly),
        secure: Boolean(c.secure),
        ...(c.sameSite ? { sameSite: c.sameSite } : {}),
      })),
      content,
      redirectURL: '',
      headersSize,
      bodySize,
      _transferSize: transferSize,
      _error: null,
      _fetchedViaServiceWorker: false,
    },
    serverIPAddress: ws ? '' : HOST,
    startedDateTime: iso(p.issued),
    time,
    timings,
  });
  return entry;
}

function chromeHar(session) {
  const entries = session.exchanges.map((ex) => chromeEntry(ex, session.base));
  return {
    log: {
      version: '1.2',
      creator: { name: 'WebInspector', version: '537.36' },
      pages: [
        {
          startedDateTime: entries.length ? entries[0].startedDateTime : iso(now()),
          id: 'page_1',
          title: `${session.base}/`,
          pageTimings: { onContentLoad: -1, onLoad: -1 },
        },
      ],
      entries,
    },
  };
}

// Firefox DevTools' shape: devtools/client/netmonitor/src/har/har-builder.js. It has no
// WebSocket messages (no _webSocketMessages, no _resourceType); the WebSocket handshake is an
// ordinary entry with status 101 and the http:// URL of the channel Firefox opens for it.
function firefoxEntry(ex, base, proxyPort) {
  const p = phases(ex);
  const ms = (x) => Math.max(0, Math.round(x));
  const timings = {
    blocked: 0,
    dns: 0,
    connect: p.connect < 0 ? 0 : ms(p.connect),
    ssl: 0,
    send: ms(p.send),
    wait: ms(p.wait),
    receive: ms(p.receive),
  };
  const request = {
    bodySize: 0,
    method: ex.method,
    url: entryUrl(ex, base, 'http'),
    httpVersion: ex.httpVersion,
    headers: harHeaders(ex.reqHeaders),
    cookies: [],
    queryString: queryString(entryUrl(ex, base, 'http')),
    headersSize: ex.reqHeadRaw.length,
  };
  if (ex.reqBody.length) {
    // Firefox converts the upload stream to text with the page charset (UTF-8); bytes that
    // are not UTF-8 become U+FFFD.
    const text = new TextDecoder('utf-8').decode(ex.reqBody);
    request.postData = { mimeType: header(ex.reqHeaders, 'content-type') || '', params: [], text };
    request.bodySize = text.length;
  }
  const ws = ex.kind === 'websocket';
  const body = contentBody(ex);
  const contentType = header(ex.resHeaders, 'content-type') || '';
  const content = ws ? { mimeType: '', size: 0, text: '' } : { mimeType: contentType, size: body.length };
  if (!ws) {
    if (isTextMime(mimeOf(contentType)) && isUtf8(body)) content.text = body.toString('utf8');
    else {
      content.encoding = 'base64';
      content.text = body.toString('base64');
    }
  }
  return {
    pageref: 'page_1',
    startedDateTime: firefoxDate(p.issued),
    request,
    response: {
      status: ex.status,
      statusText: ex.statusText,
      httpVersion: ex.resHttpVersion,
      headers: harHeaders(ex.resHeaders),
      cookies: responseCookies(ex).map((c) => ({ name: c.name, value: c.value })),
      content,
      redirectURL: '',
      headersSize: ex.resHeadRaw.length,
      bodySize: ex.resBodyRaw.length,
    },
    cache: {},
    timings,
    time: Object.values(timings).reduce((a, b) => a + b, 0),
    _securityState: 'insecure',
    serverIPAddress: HOST,
    connection: String(proxyPort),
  };
}

function firefoxHar(session) {
  const entries = session.exchanges.map((ex) => firefoxEntry(ex, session.base, session.proxyPort));
  const version = '128.0';
  return {
    log: {
      version: '1.2',
      creator: { name: 'Firefox', version },
      browser: { name: 'Firefox', version },
      pages: [
        {
          startedDateTime: entries.length ? entries[0].startedDateTime : firefoxDate(now()),
          id: 'page_1',
          title: `${session.base}/`,
          pageTimings: { onContentLoad: -1, onLoad: -1 },
        },
      ],
      entries,
    },
  };
}

// Text as people paste it: \x1e and other control characters as \xNN escapes.
function escapeText(text) {
  return text.replace(/[\x00-\x1f\x7f\\]/g, (c) =>
    c === '\\' ? '\\\\' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

const hex = (buf) => [...buf].map((b) => b.toString(16).padStart(2, '0')).join(' ');

function bodyLine(buf, contentType) {
  if (isTextMime(mimeOf(contentType)) || (!contentType && isUtf8(buf))) {
    if (isUtf8(buf)) return escapeText(buf.toString('utf8'));
  }
  return `<binary> ${hex(buf)}`;
}

// The session told in the order things took effect, as a person describing it would: a POST
// when it was sent (its body is what matters), a GET when its answer came back (its response
// body is what matters; so the handshake GET and every long-poll GET come after the POSTs
// made while they were pending), a WebSocket handshake when its 101 came back, and each
// WebSocket message when it completed. Frames follow their 101 block directly; after an HTTP
// exchange in between they go on under a new "WebSocket frames:" heading. The times are the
// ones wire.json gives each message, so both list the messages in the same order.
function transcript(session) {
  const events = [];
  for (const ex of session.exchanges) {
    const at = ex.kind === 'websocket' || ex.method !== 'POST' ? ex.resEndAt : ex.reqEndAt;
    events.push({ time: at, ex });
    if (ex.kind === 'websocket') for (const m of ex.messages) events.push({ time: m.time, ex, frame: m });
  }
  // Stable: on a tie a 101 block stays before the frames that came in its chunk.
  events.sort((a, b) => a.time - b.time);
  const lines = [];
  let n = 0;
  let last = null; // what was printed last: {ex} (a block) or {ex, frame}
  for (const event of events) {
    const { ex, frame } = event;
    if (frame) {
      if (!(last && last.ex === ex)) lines.push('WebSocket frames:', '');
      const arrow = frame.dir === 'send' ? '>' : '<';
      const data =
        frame.opcode === 2 ? `<binary> ${hex(frame.data)}` : escapeText(frame.data.toString('utf8'));
      lines.push(`${arrow} ${data}`);
      last = event;
      continue;
    }
    if (last && last.frame) lines.push(''); // a blank line ends a run of frames
    lines.push(`  • Request n°${++n}`);
    lines.push(`${ex.method} ${ex.target}`);
    for (const [name, value] of ex.reqHeaders) lines.push(`> ${name}: ${value}`);
    if (ex.reqBody.length) lines.push(bodyLine(ex.reqBody, header(ex.reqHeaders, 'content-type')));
    lines.push(`< ${ex.resHttpVersion} ${ex.status} ${ex.statusText}`);
    for (const [name, value] of ex.resHeaders) lines.push(`< ${name}: ${value}`);
    const body = contentBody(ex);
    if (body.length) lines.push(bodyLine(body, header(ex.resHeaders, 'content-type')));
    lines.push(''); // after a 101 the blank line ends its headers; frames follow
    last = event;
  }
  if (last && last.frame) lines.push('');
  return lines.join('\n');
}

// The ground truth: one record per wire message (a POST body, a GET response body or a
// WebSocket message), in the order the proxy saw them complete.
const round6 = (x) => Math.round(x * 1e6) / 1e6;

function wire(session) {
  const messages = [];
  const httpErrors = [];
  const push = (rec, buf, text) => {
    if (text && isUtf8(buf)) rec.text = buf.toString('utf8');
    else rec.hex = hex(buf).replace(/ /g, '');
    messages.push(rec);
  };
  for (const ex of session.exchanges) {
    if (ex.kind === 'websocket') {
      for (const m of ex.messages) {
        const dir = m.dir === 'send' ? 'c2s' : 's2c';
        const rec = { time: m.time / 1000, dir, transport: 'websocket', entry: ex.entry, opcode: m.opcode };
        push(rec, m.data, m.opcode === 1);
      }
      continue;
    }
    const rec = { method: ex.method, transport: 'polling', entry: ex.entry };
    if (ex.reqBody.length) {
      const binary = mimeOf(header(ex.reqHeaders, 'content-type')) === 'application/octet-stream';
      push({ time: ex.reqEndAt / 1000, dir: 'c2s', ...rec }, ex.reqBody, !binary);
    }
    // A POST is answered "ok" (text/html): HTTP plumbing, not an Engine.IO payload; an HTTP
    // error's body is the server's complaint, kept apart.
    const body = contentBody(ex);
    if (ex.status >= 300) {
      httpErrors.push({
        time: round6(ex.resEndAt / 1000),
        method: ex.method,
        entry: ex.entry,
        status: ex.status,
        body: body.toString('utf8'),
      });
    } else if (body.length && ex.method === 'GET') {
      const text = isTextMime(mimeOf(header(ex.resHeaders, 'content-type')));
      push({ time: ex.resEndAt / 1000, dir: 's2c', ...rec }, body, text);
    }
  }
  messages.sort((a, b) => a.time - b.time);
  return {
    name: session.name,
    server: session.server,
    client: session.client,
    eio: session.eio,
    base: session.base,
    messages: messages.map((m) => ({ ...m, time: round6(m.time) })),
    http_errors: httpErrors,
  };
}

function rawDump(session, recording) {
  return {
    name: session.name,
    proxyPort: session.proxyPort,
    connections: recording.connections.map((c) => ({
      id: c.id,
      acceptedAt: c.acceptedAt / 1000,
      c2s: c.c2s.map((x) => ({ t: x.t / 1000, b64: x.data.toString('base64') })),
      s2c: c.s2c.map((x) => ({ t: x.t / 1000, b64: x.data.toString('base64') })),
    })),
  };
}

// ---------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------

// How long each session stays connected (ms from its start) so that heartbeats show: pings
// every 300 ms on the Node servers, every 1 s on python-socketio (see psio_server.py).
const NODE_KEEP = { upgrade: 1200, websocket: 800, polling: 450 };
const PSIO_KEEP = { upgrade: 2300, websocket: 1300, polling: 1300 };

const SERVERS = {
  node4: {
    start: startNode4,
    generation: 4,
    eio: 4,
    modes: ['upgrade', 'websocket', 'polling'],
    keep: NODE_KEEP,
    server: () => `socket.io ${versionOf(path.join(NODE_MODULES, 'socket.io'))} (Node ${process.versions.node})`,
  },
  node2: {
    start: startNode2,
    generation: 2,
    eio: 3,
    modes: ['upgrade', 'websocket', 'polling', 'polling-b64'],
    keep: NODE_KEEP,
    server: () => `socket.io ${versionOf(path.join(NODE_MODULES, 'socket.io-v2'))} (Node ${process.versions.node})`,
  },
  psio: {
    start: startPsio,
    generation: 4,
    eio: 4,
    modes: ['upgrade', 'websocket', 'polling'],
    keep: PSIO_KEEP,
    server: () => {
      const code =
        'import importlib.metadata as m; print(", ".join(f"{p} {m.version(p)}" for p in ' +
        '("python-socketio", "python-engineio", "uvicorn", "websockets")))';
      const out = spawnSync(PYTHON, ['-c', code], { encoding: 'utf8' });
      return `${out.stdout.trim()} (ASGI app under uvicorn)`;
    },
  },
};
const CLIENTS = {
  4: `socket.io-client ${versionOf(path.join(NODE_MODULES, 'socket.io-client'))}`,
  2: `socket.io-client ${versionOf(path.join(NODE_MODULES, 'socket.io-client-v2'))}`,
};

async function capture(serverKey, mode, rawDir) {
  const spec = SERVERS[serverKey];
  const name = `${serverKey}-${mode}`;
  const server = await spec.start();
  const recording = new Recording();
  const proxy = await startProxy(server.port, recording);
  const base = `http://${HOST}:${proxy.port}`;
  const log = (msg) => console.log(`  [${name}] ${msg}`);
  try {
    await scenario(spec.generation, base, mode, spec.keep[mode] || spec.keep.polling, log);
    const deadline = now() + 3000;
    while (!recording.settled() && now() < deadline) await sleep(20);
    await sleep(50);
  } finally {
    await proxy.close();
    await server.close();
    http.globalAgent.destroy(); // no idle keep-alive socket may leak into the next session
    await sleep(50);
  }
  if (!recording.settled()) throw new Error(`${name}: exchanges still open at the end`);
  const session = {
    name,
    server: spec.server(),
    client: CLIENTS[spec.generation],
    eio: spec.eio,
    base,
    proxyPort: proxy.port,
    // In the order both exporters list them (by the time each request was issued).
    exchanges: [...recording.exchanges].sort((a, b) => phases(a).issued - phases(b).issued),
  };
  session.exchanges.forEach((ex, i) => {
    ex.entry = i;
  });
  const write = (file, text) => fs.writeFileSync(path.join(OUT_DIR, file), text);
  write(`${name}.chrome.har`, JSON.stringify(chromeHar(session), null, 2));
  write(`${name}.firefox.har`, JSON.stringify(firefoxHar(session), null, 2));
  write(`${name}.txt`, transcript(session));
  write(`${name}.wire.json`, `${JSON.stringify(wire(session), null, 1)}\n`);
  fs.writeFileSync(path.join(rawDir, `${name}.raw.json`), JSON.stringify(rawDump(session, recording)));
  const ws = recording.exchanges.filter((ex) => ex.kind === 'websocket');
  log(
    `${recording.exchanges.length - ws.length} HTTP exchanges, ` +
      `${ws.reduce((a, ex) => a + ex.messages.length, 0)} WebSocket messages` +
      (ws.some((ex) => ex.deflate) ? ' (permessage-deflate)' : ''),
  );
}

async function main() {
  const args = process.argv.slice(2);
  const arg = (flag) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const only = arg('--only') ? arg('--only').split(',') : null;
  const rawDir = path.resolve(arg('--raw') || path.join(os.tmpdir(), 'siocli-captures-raw'));
  fs.mkdirSync(OUT_DIR, { recursive: true });
  fs.mkdirSync(rawDir, { recursive: true });
  const names = [];
  for (const serverKey of Object.keys(SERVERS)) {
    for (const mode of SERVERS[serverKey].modes) {
      const name = `${serverKey}-${mode}`;
      if (only && !only.includes(name)) continue;
      console.log(`capturing ${name}`);
      await capture(serverKey, mode, rawDir);
      names.push(name);
    }
  }
  if (args.includes('--no-verify')) return;
  const verify = spawnSync(PYTHON, [path.join(__dirname, 'verify.py'), '--raw', rawDir, ...names], {
    stdio: 'inherit',
  });
  process.exitCode = verify.status === null ? 1 : verify.status;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
