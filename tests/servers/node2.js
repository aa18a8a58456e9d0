// A socket.io 2.x reference server for siocli's tests (Engine.IO 3, Socket.IO protocol 4).
// Usage: node node2.js '{"port":0,"pingInterval":300,...}'  -> prints {"port":N} when ready.
// Binds 127.0.0.1 only. The behaviour is shared with node4.js and psio.py (README.md).
"use strict";
const path = require("path");
const modules = path.join(__dirname, "..", "..", "node", "node_modules");
const io = require(path.join(modules, "socket.io-v2"));
const http = require("http");

const options = JSON.parse(process.argv[2] || "{}");
// Anything outside the handshake path gets a 404, as behind a real web framework.
const httpServer = http.createServer((req, res) => {
  res.writeHead(404, { "Content-Type": "text/plain" });
  res.end("Not Found");
});
const server = io(httpServer, {
  path: options.path || "/socket.io",
  pingInterval: options.pingInterval || 25000,
  pingTimeout: options.pingTimeout || 5000,
  maxHttpBufferSize: options.maxHttpBufferSize || 1e6,
  transports: options.transports || ["polling", "websocket"],
  // "parser": "msgpack" -> socket.io-msgpack-parser 2.x (CONNECT, DISCONNECT and ERROR as
  // JSON text, the other packets as MessagePack maps)
  ...(options.parser === "msgpack"
    ? { parser: require(path.join(modules, "socket.io-msgpack-parser-v2")) }
    : {}),
});

function common(socket) {
  socket.emit("welcome", { sid: socket.id, nsp: socket.nsp.name });
  socket.on("hello", (...args) => {
    const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
    // "changed": a server whose answer changed, for replay's tests
    if (ack) ack(options.changed ? "hello" : "hi", ...args);
  });
  socket.on("what-time", () => socket.emit("clock", { time: Date.now(), zone: "UTC" }));
  socket.on("echo", (...args) => socket.emit("echo", ...args));
  socket.on("ask", (payload) => {
    socket.emit("question", payload, (...answers) => socket.emit("answered", ...answers));
  });
  socket.on("binary", (...args) => {
    const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
    if (ack) ack(Buffer.from([1, 2, 3]), { nested: Buffer.from([4, 5]) });
  });
  socket.on("kick", () => socket.disconnect(true));
  socket.on("leave-me", () => socket.disconnect());
  socket.on("burst", (spec) => {
    const n = (spec && spec.n) || 10;
    for (let i = 0; i < n; i++) socket.emit("tick", i);
  });
}

server.on("connection", common);
server.of("/admin").use((socket, next) => {
  // Socket.IO 2.x has no auth payload: the client passes it in the namespace's query.
  if (socket.handshake.query.token === "secret-token") return next();
  next(new Error("not authorized"));
});
server.of("/admin").on("connection", (socket) => {
  common(socket);
  socket.on("whoami", (ack) => typeof ack === "function" && ack({ token: socket.handshake.query.token }));
});
server.of("/private").use((socket, next) => next(new Error("not authorized")));

httpServer.listen(options.port || 0, "127.0.0.1", () => {
  process.stdout.write(JSON.stringify({ port: httpServer.address().port }) + "\n");
});
process.on("SIGTERM", () => process.exit(0));
