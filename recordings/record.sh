#!/usr/bin/env bash
# Makes the example recordings in recordings/, with siocli, against the test servers
# (tests/servers). Run from the repository root, after .ci/run (it needs .venv and node/).
set -euo pipefail
cd "$(dirname "$0")/.."
source recordings/servers.sh

SCRIPT='emit --ack hello 1 "two" {"three": [3]}
emit --ack binary hex:0102
emit echo b64:AQID text
wait echo
emit ask 7
wait question
ack last "yes" hex:07
wait answered
join /admin {"token": "secret-token"}
emit --ack whoami
emit what-time
wait clock
leave /admin'

record() {  # record NAME URL [OPTIONS...]
    local name=$1 url=$2
    shift 2
    printf '%s\n' "$SCRIPT" | .venv/bin/siocli connect "$url" --record "recordings/$name.jsonl" -q "$@" >/dev/null
    echo "recorded recordings/$name.jsonl"
}

start_servers
record node4-upgrade "$NODE4_URL"
record node4-websocket "$NODE4_URL" --transport websocket
record node2-upgrade "$NODE2_URL"
record node2-polling "$NODE2_URL" --transport polling
