// The real socket.io clients (4.x, and 2.x for Engine.IO 3) doing what recordings/record.sh
// did, against `siocli replay RECORDING --serve`: prints one JSON line per thing observed.
// Usage: node node_recorded_client.js '{"version": 4, "url": "http://127.0.0.1:3000",
//                                       "transports": ["websocket"], "changed": false}'
// "changed": the client says hello with other args (a divergence the mock reports);
// "admin": false skips the /admin part (recordings made without it); "adminToken": the
// token /admin is joined with (default: the right one); "parser": "msgpack" uses
// socket.io-msgpack-parser (4.x only).
"use strict";
const { client, out, show } = require("./common");
const spec = JSON.parse(process.argv[2]);
const v2 = spec.version === 2;
const io = client(spec.version);
const once = (socket, event) => new Promise((resolve) => socket.once(event, (...args) => resolve(args)));
const emitWithAck = (socket, ...args) => new Promise((resolve) => socket.emit(...args, (...answer) => resolve(answer)));

const parser = spec.parser === "msgpack"
  ? { parser: require(require("path").join(__dirname, "..", "..", "node", "node_modules",
                                           "socket.io-msgpack-parser")) }
  : {};
const main = io(spec.url, { transports: spec.transports || ["polling", "websocket"],
                            forceNew: true, reconnection: false, ...parser });
// listeners first: the server may send right after the CONNECT
const welcome = once(main, "welcome");
main.on("connect", () => out({ type: "connect", nsp: "/", id: main.id }));
main.on("connect_error", (err) => out({ type: "connect_error", nsp: "/", message: String(err.message || err) }));

async function scenario() {
  const [hi] = [await welcome];
  out({ type: "event", event: "welcome", args: show(hi), id: main.id });
  out({ type: "ack", event: "hello",
        args: show(await emitWithAck(main, "hello", 1, "two", { three: [spec.changed ? 4 : 3] })) });
  out({ type: "ack", event: "binary", args: show(await emitWithAck(main, "binary", Buffer.from([1, 2]))) });
  const echoed = once(main, "echo");
  main.emit("echo", Buffer.from([1, 2, 3]), "text");
  out({ type: "event", event: "echo", args: show(await echoed) });
  const question = new Promise((resolve) => main.once("question", (...args) => {
    const callback = args.pop();
    callback("yes", Buffer.from([7]));
    resolve(args);
  }));
  const answered = once(main, "answered");
  main.emit("ask", 7);
  out({ type: "event", event: "question", args: show(await question) });
  out({ type: "event", event: "answered", args: show(await answered) });
  if (spec.admin === false) return finish();
  const token = spec.adminToken || "secret-token";
  const admin = v2 ? main.io.socket("/admin", { query: { token } })
                   : main.io.socket("/admin", { auth: { token } });
  const adminWelcome = once(admin, "welcome");
  const joined = await new Promise((resolve) => {
    admin.once("connect", () => resolve(true));
    admin.once(v2 ? "error" : "connect_error", (err) => {
      out({ type: "connect_error", nsp: "/admin", message: String(err.message || err),
            data: err.data === undefined ? null : err.data });
      resolve(false);
    });
  });
  if (!joined) return finish();
  out({ type: "connect", nsp: "/admin", id: admin.id });
  out({ type: "ack", event: "whoami", args: show(await emitWithAck(admin, "whoami")) });
  out({ type: "event", event: "welcome", nsp: "/admin", args: show(await adminWelcome) });
  const clock = once(admin, "clock");
  admin.emit("what-time");
  out({ type: "event", event: "clock", args: show(await clock) });
  admin.close();
  finish();
}
function finish() {
  out({ type: "transport", name: main.io.engine.transport.name });
  setTimeout(() => { main.close(); setTimeout(() => process.exit(0), 100); }, 50);
}
scenario();
setTimeout(() => { out({ type: "timeout" }); process.exit(1); }, 8000);
