#!/usr/bin/env node
"use strict";
/*
 * Batch judge for tests/test_reference_differential.py: one JSON object per stdin line,
 * one verdict per stdout line, in the same order.
 *
 *   {"layer": "engineio", "eio": 3|4, "kind": "packet"|"payload", "input": <input>}
 *   {"layer": "socketio", "protocol": 4|5, "messages": [<input>, ...]}
 *
 * An <input> is a string or {"$binary": "<base64>"}. Each answer is the object
 * reference.js's judgeEngine/judgeSocket returns, or {"judge_error": "..."} if the judge
 * itself failed on that line (a bug here, not a verdict).
 */

const fs = require("fs");
const { judgeEngine, judgeSocket } = require("./reference.js");

function judge(line) {
  const request = JSON.parse(line);
  if (request.layer === "engineio") return judgeEngine(request);
  if (request.layer === "socketio") return judgeSocket(request);
  throw new Error(`unknown layer ${JSON.stringify(request.layer)}`);
}

const lines = fs.readFileSync(0, "utf8").split("\n").filter((line) => line.length);
const out = lines.map((line) => {
  try {
    return JSON.stringify(judge(line));
  } catch (e) {
    return JSON.stringify({ judge_error: String(e && e.stack ? e.stack : e) });
  }
});
process.stdout.write(out.join("\n") + (out.length ? "\n" : ""));
