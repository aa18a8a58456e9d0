// socket.io-client 4 (node/node_modules) for bench/live.py: connect to "/", count "tick"
// events, and disconnect after the N-th. Usage: node live_node_client.js URL N TRANSPORT
// (TRANSPORT: websocket or polling). Exit status 1 if the session ended before the N-th.
"use strict";
const path = require("path");
const { io } = require(path.join(__dirname, "..", "node", "node_modules", "socket.io-client"));

const [url, wanted, transport] = [process.argv[2], Number(process.argv[3]), process.argv[4]];
const socket = io(url, { transports: [transport], forceNew: true, reconnection: false });
let seen = 0;
socket.on("tick", () => {
  seen += 1;
  if (seen === wanted) socket.disconnect(); // sends DISCONNECT; the process ends when closed
});
socket.on("disconnect", (reason) => {
  if (seen < wanted) {
    process.stderr.write(`disconnected after ${seen} events: ${reason}\n`);
    process.exitCode = 1;
  }
});
socket.on("connect_error", (err) => {
  process.stderr.write(`connect_error: ${err.message}\n`);
  process.exit(1);
});
