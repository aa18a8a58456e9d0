// socket.io 4.8 with connection state recovery, for siocli's recovery tests.
// Usage: node recovery.js '{"port":0,"tickEvery":40,"maxDisconnectionDuration":30000}'
// -> prints {"port":N} when ready, then one JSON line per thing it did: {"connect":
// {"sid","nsp","recovered","pid"}}, {"tick":n} after broadcasting `tick n` (stored for
// recovery: the server's own log of what it sent), {"disconnect":{"sid","reason"}}.
// Binds 127.0.0.1 only. With `tickEvery`, `tick n` goes to every client every `tickEvery`
// ms from the first connection on. `burst {n}` emits `tick 0`..`tick n-1` to the socket;
// `hello` with an ack is acked "hi" ("hello" with `changed`), and `ask` emits `question`
// asking for an ack (events with an ack carry no offset).
"use strict";
const path = require("path");
const modules = path.join(__dirname, "..", "..", "node", "node_modules");
const { Server } = require(path.join(modules, "socket.io"));
const http = require("http");

const options = JSON.parse(process.argv[2] || "{}");
const httpServer = http.createServer((req, res) => {
  res.writeHead(404, { "Content-Type": "text/plain" });
  res.end("Not Found");
});
const io = new Server(httpServer, {
  pingInterval: options.pingInterval || 25000,
  pingTimeout: options.pingTimeout || 20000,
  transports: options.transports || ["polling", "websocket"],
  connectionStateRecovery: {
    maxDisconnectionDuration: options.maxDisconnectionDuration || 30000,
  },
});
const log = (record) => process.stdout.write(JSON.stringify(record) + "\n");

let n = 0;
let timer = null;
io.on("connection", (socket) => {
  log({ connect: { sid: socket.id, nsp: socket.nsp.name, recovered: socket.recovered, pid: socket.pid } });
  socket.on("hello", (...args) => {
    const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
    if (ack) ack(options.changed ? "hello" : "hi", ...args);
  });
  socket.on("burst", (spec) => {
    for (let i = 0; i < ((spec && spec.n) || 3); i++) socket.emit("tick", i);
  });
  socket.on("ask", (payload) => socket.emit("question", payload, () => {}));
  socket.on("disconnect", (reason) => log({ disconnect: { sid: socket.id, reason } }));
  if (timer === null && options.tickEvery) {
    timer = setInterval(() => {
      io.emit("tick", n);
      log({ tick: n });
      n += 1;
    }, options.tickEvery);
  }
});
httpServer.listen(options.port || 0, "127.0.0.1", () => log({ port: httpServer.address().port }));
