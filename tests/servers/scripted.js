// A socket.io 4.x server that plays one fixed script to each client, for the tests of
// siocli's fast paths (tests/test_live_fastpath.py): the same events whatever the transport.
// Usage: node scripted.js '{"port":0,"ticks":300}'  -> prints {"port":N} when ready.
// Binds 127.0.0.1 only. WebSocket messages of 64 bytes or more are compressed
// (permessage-deflate), and polling answers of 64 bytes or more gzipped; over WebSocket the
// script also sends a ping frame and a message in fragments through the underlying `ws`.
"use strict";
const path = require("path");
const modules = path.join(__dirname, "..", "..", "node", "node_modules");
const { Server } = require(path.join(modules, "socket.io"));
const http = require("http");

const options = JSON.parse(process.argv[2] || "{}");
const ticks = options.ticks || 300;
const httpServer = http.createServer();
const io = new Server(httpServer, {
  pingInterval: 25000,
  pingTimeout: 20000,
  perMessageDeflate: { threshold: 64 },
  httpCompression: { threshold: 64 },
  cookie: { name: "io", path: "/", httpOnly: true }, // a sticky-session cookie to send back
});
// Idle keep-alive connections close after keepAlive ms (Node's default: 5 s).
httpServer.keepAliveTimeout = options.keepAlive || 5000;

// The script, for `siocli listen URL -n /admin --auto-ack ARGS --until end`: the client
// answers every ack request (on /admin, the namespace it joins last), and each answer comes
// back as an "answered" event. In each namespace the order is fixed; "end" comes on "/" once
// the two answers are in.
const clients = new WeakMap(); // Engine.IO connection -> {answers, main}

function play(socket) {
  const nsp = socket.nsp.name;
  const client = clients.get(socket.conn) || { answers: 0, main: null };
  clients.set(socket.conn, client);
  if (nsp === "/") client.main = socket;
  const answered = (...answer) => {
    socket.emit("answered", nsp, ...answer);
    client.answers += 1;
    if (client.answers === 2) finish(client.main);
  };
  socket.emit("text", "héllo ✓ \u2028", 1, -2.5, true, null, { a: [1, { b: "c" }] });
  socket.emit("bin", Buffer.from([1, 2, 3]), { nested: [Buffer.from([]), Buffer.from([255])] });
  if (nsp === "/admin") socket.emit("ask", nsp, answered);
  socket.emit("long", "x".repeat(300)); // compressed over WebSocket
  for (let n = 0; n < ticks; n++) socket.emit("tick", { n, nsp });
  if (nsp === "/admin") socket.emit("ask-binary", Buffer.from("ab"), answered);
}

// After the script: frames only the underlying WebSocket sends (a ping, a message in two
// fragments), then the end.
function finish(socket) {
  const transport = socket.conn.transport;
  if (transport.name === "websocket") {
    transport.socket.ping();
    transport.socket.send('42["fragmented",', { fin: false, compress: false });
    transport.socket.send('"in two pieces"]', { fin: true, compress: false });
    socket.emit("after-fragments", "still in order");
  }
  socket.emit("end");
}

io.on("connection", play);
io.of("/admin").on("connection", play);

httpServer.listen(options.port || 0, "127.0.0.1", () => {
  process.stdout.write(JSON.stringify({ port: httpServer.address().port }) + "\n");
});
process.on("SIGTERM", () => process.exit(0));
