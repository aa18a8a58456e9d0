// socket.io-client 4 for bench/proxy.py: one JSON line of results.
// Usage: node proxy_client.js '{"url": "...", "mode": "latency", "rate": 1000, "seconds": 10}'
//   latency:    "hello" with an ack, `rate` per second for `seconds`: every round trip (ms)
//   throughput: asks the server for `events` "tick" events (the "burst" event) over
//               WebSocket and times their arrival
"use strict";
const path = require("path");
const { io } = require(path.join(__dirname, "..", "node", "node_modules", "socket.io-client"));
const spec = JSON.parse(process.argv[2]);
const socket = io(spec.url, { transports: ["websocket"], forceNew: true, reconnection: false });
const now = () => Number(process.hrtime.bigint()) / 1e6;
// exit once written: a pipe takes 64 KiB at a time
const done = (result) => {
  socket.close();
  process.stdout.write(JSON.stringify(result) + "\n", () => process.exit(0));
};

socket.on("connect", () => {
  if (spec.mode === "latency") {
    const rtts = [];
    const total = spec.rate * spec.seconds;
    const start = now();
    let sent = 0;
    // paced by the clock, not by setInterval's 1 ms floor: each tick sends what is due
    const pump = () => {
      const due = Math.min(total, Math.floor(((now() - start) / 1000) * spec.rate));
      while (sent < due) {
        const t0 = now();
        sent += 1;
        socket.emit("hello", sent, () => {
          rtts.push(now() - t0);
          if (rtts.length === total) done({ rtts, seconds: (now() - start) / 1000 });
        });
      }
      if (sent < total) setTimeout(pump, 1);
    };
    pump();
  } else {
    let count = 0;
    let start = null;
    socket.on("tick", () => {
      if (start === null) start = now();
      count += 1;
      if (count === spec.events) done({ events: count, seconds: (now() - start) / 1000 });
    });
    socket.emit("burst", { n: spec.events });
  }
});
setTimeout(() => { process.stdout.write(JSON.stringify({ timeout: true }) + "\n"); process.exit(1); },
           (spec.seconds || 60) * 1000 + 60000);
