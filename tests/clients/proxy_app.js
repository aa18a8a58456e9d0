// The real socket.io clients (4.x, and 2.x for Engine.IO 3) running one app scenario against
// the test servers (tests/servers/README.md), directly or through `siocli proxy`: one JSON
// line per thing observed, so the two runs can be compared.
// Usage: node proxy_app.js '{"version": 4, "url": "http://127.0.0.1:3000", "mode": "app"}'
// Modes: app (the scenario), reconnect (--cut-after), upgrade (--no-upgrade),
// heartbeat (--stall-heartbeat), drop (--drop s2c:tick --drop c2s:echo).
"use strict";
const { client, out, show } = require("./common");
const spec = JSON.parse(process.argv[2]);
const io = client(spec.version);
const v2 = spec.version === 2;
const options = { transports: spec.transports || ["polling", "websocket"], forceNew: true,
                  reconnection: spec.mode === "reconnect", reconnectionDelay: 100,
                  upgrade: spec.upgrade !== false };
const withAuth = (auth) => v2 ? { ...options, query: auth } : { ...options, auth };
const finish = (code = 0) => setTimeout(() => process.exit(code), 50);
setTimeout(() => { out({ type: "timeout" }); process.exit(1); }, spec.timeout || 10000);

const main = io(spec.url, options);
const engine = () => main.io.engine;

if (spec.mode === "app") {
  const pending = new Set(["main", "admin", "private", "wrong"]);
  const done = (what) => {
    pending.delete(what);
    if (pending.size === 0) {
      out({ type: "transport", name: engine().transport.name });
      main.close(); admin.close(); priv.close(); wrong.close();
      finish();
    }
  };
  const ticks = [];
  main.on("welcome", (w) => out({ type: "welcome", nsp: w.nsp }));
  main.on("tick", (i) => {
    ticks.push(i);
    if (ticks.length === 5) {  // python-socketio runs handlers concurrently: wait for all
      out({ type: "ticks", ticks: ticks.sort() });
      main.emit("ask", { q: 1 });
    }
  });
  main.on("echo", (...args) => out({ type: "echo", args: show(args) }));
  main.on("question", (payload, ack) => { out({ type: "question", payload }); ack("yes", payload); });
  main.on("answered", (...args) => {
    out({ type: "answered", args: show(args) });
    // the upgrade (when there is one) is over once a message went both ways on it
    const check = () => engine().transport.name === (spec.expect || engine().transport.name)
      ? done("main") : setTimeout(check, 20);
    check();
  });
  main.on("connect", () => {
    out({ type: "connect", nsp: "/" });
    main.emit("hello", 1, "two", { three: [3] }, (...args) => {
      out({ type: "ack", event: "hello", args: show(args) });
      main.emit("echo", "text", Buffer.from([0xff]), { nested: Buffer.from([1, 2]) });
      main.emit("binary", Buffer.from([9]), (...bin) => {
        out({ type: "ack", event: "binary", args: show(bin) });
        main.emit("burst", { n: 5 });
      });
    });
  });
  const admin = io(spec.url + "/admin", withAuth({ token: "secret-token" }));
  admin.on("connect", () => {
    out({ type: "connect", nsp: "/admin" });
    admin.emit("whoami", (auth) => { out({ type: "whoami", auth }); done("admin"); });
  });
  const refused = (name) => (err) => {
    out({ type: "connect_error", socket: name, message: err.message || String(err),
          data: err.data === undefined ? null : err.data });
    done(name);
  };
  const priv = io(spec.url + "/private", options);
  priv.on("connect_error", refused("private"));
  priv.on("error", refused("private"));  // socket.io-client 2.x
  const wrong = io(spec.url + "/admin", withAuth({ token: "wrong" }));
  wrong.on("connect_error", refused("wrong"));
  wrong.on("error", refused("wrong"));
} else if (spec.mode === "reconnect") {
  let connects = 0;
  main.on("connect", () => {
    connects += 1;
    out({ type: "connect", n: connects });
    if (connects === 2) { main.close(); finish(); }
  });
  main.on("disconnect", (reason) => out({ type: "disconnect", reason }));
} else if (spec.mode === "upgrade") {
  main.on("connect", () => out({ type: "connect" }));
  engine().on("upgradeError", () => {
    out({ type: "upgrade_error", transport: engine().transport.name });
    main.emit("hello", "still-here", (...args) => {
      out({ type: "ack", args, transport: engine().transport.name });
      main.close(); finish();
    });
  });
  engine().on("upgrade", () => { out({ type: "upgraded" }); main.close(); finish(1); });
} else if (spec.mode === "heartbeat") {
  main.on("connect", () => out({ type: "connect" }));
  main.on("disconnect", (reason) => { out({ type: "disconnect", reason }); finish(); });
} else if (spec.mode === "drop") {
  const seen = { tick: 0, echo: 0 };
  main.on("tick", () => { seen.tick += 1; });
  main.on("echo", () => { seen.echo += 1; });
  main.on("connect", () => {
    main.emit("burst", { n: 3 });
    main.emit("echo", "dropped on the way");
    main.emit("hello", "last", (...args) => {
      // the server answers in order: ticks and echo would have come before this ack
      out({ type: "ack", args, seen });
      main.close(); finish();
    });
  });
}
