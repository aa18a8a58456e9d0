// The real socket.io clients (4.x, and 2.x for Engine.IO 3), driven through one scenario
// against siocli's own server: prints one JSON line per thing it observed.
// Usage: node node_client.js '{"version": 4, "url": "http://127.0.0.1:3000", "transports": ["polling"]}'
"use strict";
const { client, out, show } = require("./common");
const spec = JSON.parse(process.argv[2]);
const io = client(spec.version);

const options = { transports: spec.transports || ["polling", "websocket"], forceNew: true,
                  reconnection: false };
const admin = spec.version === 2
  ? io(spec.url + "/admin", { ...options, query: { token: "secret-token" } })
  : io(spec.url + "/admin", { ...options, auth: { token: "secret-token" } });
const refused = spec.version === 2
  ? io(spec.url + "/admin", { ...options, query: { token: "wrong" } })
  : io(spec.url + "/admin", { ...options, auth: { token: "wrong" } });
const main = io(spec.url, options);
const done = { main: false, admin: false, refused: false };
const finish = () => {
  if (Object.values(done).every(Boolean)) {
    const transport = main.io.engine.transport.name;
    out({ type: "transport", name: transport });
    main.close(); admin.close(); refused.close();
    setTimeout(() => process.exit(0), 100);
  }
};

main.on("connect", () => {
  out({ type: "connect", nsp: "/" });
  main.emit("hello", 1, "two", { three: [3] }, (...args) => {
    out({ type: "ack", event: "hello", args: show(args) });
    main.emit("upload", Buffer.from([1, 2, 3]), { nested: Buffer.from([4, 5]) }, (...bin) => {
      out({ type: "ack", event: "upload", args: show(bin) });
      main.emit("echo", "text", Buffer.from([0xff]));
    });
  });
});
main.on("echo", (...args) => {
  out({ type: "event", event: "echo", args: show(args) });
  // stay long enough for the upgrade, then finish
  setTimeout(() => { done.main = true; finish(); }, 400);
});
admin.on("connect", () => {
  out({ type: "connect", nsp: "/admin" });
  admin.emit("hello", "admin", (...args) => {
    out({ type: "ack", event: "admin-hello", args: show(args) });
    done.admin = true; finish();
  });
});
const rejected = (err) => {
  out({ type: "connect_error", nsp: "/admin", message: err.message || String(err),
        data: err.data === undefined ? null : err.data });
  done.refused = true; finish();
};
refused.on("connect_error", rejected);
refused.on("error", rejected);  // socket.io-client 2.x
refused.on("connect", () => { out({ type: "unexpected-connect" }); done.refused = true; finish(); });
setTimeout(() => { out({ type: "timeout", done }); process.exit(1); }, 8000);
