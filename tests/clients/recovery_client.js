// socket.io-client 4.8 as an app with connection state recovery uses it: reconnects by
// itself and recovers. Prints one JSON line per thing it saw: {"type":"connect","id",
// "recovered"}, {"type":"event","event","args"}, {"type":"disconnect","reason"}; exits
// after `count` events.
// Usage: node recovery_client.js '{"url":"http://127.0.0.1:3000","transports":["websocket"],"count":40}'
"use strict";
const { client, out } = require("./common");
const spec = JSON.parse(process.argv[2]);
const io = client(4);

const socket = io(spec.url, {
  transports: spec.transports || ["polling", "websocket"],
  forceNew: true,
  reconnectionDelay: spec.reconnectionDelay || 500,
  randomizationFactor: 0,
});
let seen = 0;
socket.on("connect", () => out({ type: "connect", id: socket.id, recovered: socket.recovered }));
socket.on("disconnect", (reason) => out({ type: "disconnect", reason }));
socket.onAny((event, ...args) => {
  out({ type: "event", event, args });
  seen += 1;
  if (seen >= (spec.count || 40)) {
    socket.close();
    setTimeout(() => process.exit(0), 50);
  }
});
