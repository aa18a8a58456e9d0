// socket.io-client 4.x with socket.io-msgpack-parser, against `siocli serve --parser msgpack`
// (which echoes events and acks with their args): prints one JSON line per thing observed.
// Usage: node node_msgpack_client.js '{"url": "http://127.0.0.1:3000", "transports": [...],
//                                      "token": "secret-token"}'
"use strict";
const path = require("path");
const { client, out, show } = require("./common");
const spec = JSON.parse(process.argv[2]);
const parser = require(path.join(__dirname, "..", "..", "node", "node_modules",
                                 "socket.io-msgpack-parser"));
const io = client(4);
const options = { transports: spec.transports || ["polling", "websocket"], forceNew: true,
                  reconnection: false, parser };
const emitWithAck = (socket, ...args) =>
  new Promise((resolve) => socket.emit(...args, (...answer) => resolve(answer)));
const connected = (socket, nsp) => new Promise((resolve) => {
  socket.once("connect", () => { out({ type: "connect", nsp, id: socket.id }); resolve(true); });
  socket.once("connect_error", (err) => {
    out({ type: "connect_error", nsp, message: String(err.message || err) });
    resolve(false);
  });
});

async function scenario() {
  const main = io(spec.url, options);
  if (!(await connected(main, "/"))) return process.exit(1);
  out({ type: "ack", nsp: "/", event: "binary",
        args: show(await emitWithAck(main, "binary", Buffer.from([1, 2]), { n: 1 })) });
  const echoed = new Promise((resolve) => main.once("echo", (...args) => resolve(args)));
  main.emit("echo", "text", Buffer.from([3]));
  out({ type: "event", nsp: "/", event: "echo", args: show(await echoed) });
  const admin = main.io.socket("/admin", { auth: { token: spec.token } });
  if (await connected(admin, "/admin")) {
    out({ type: "ack", nsp: "/admin", event: "whoami",
          args: show(await emitWithAck(admin, "whoami", 7)) });
  }
  out({ type: "transport", name: main.io.engine.transport.name });
  main.close();
  setTimeout(() => process.exit(0), 50);
}
scenario();
setTimeout(() => { out({ type: "timeout" }); process.exit(1); }, 8000);
