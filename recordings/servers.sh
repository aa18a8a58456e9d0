# Starts the test servers that recordings/ were made against (sourced by record.sh and by
# .ci/run): socket.io 4.8 and socket.io 2.5 on 127.0.0.1, each on a free port the system
# picks (a fixed one could be taken); $NODE4_URL and $NODE2_URL say where.
NODE4_URL=
NODE2_URL=
SERVER_PIDS=()

start_server() {  # start_server VARIABLE SCRIPT: a server on a free port, its URL in VARIABLE
    local ready port
    ready=$(mktemp)
    node "tests/servers/$2" '{"port": 0}' >"$ready" &
    SERVER_PIDS+=($!)
    for _ in $(seq 100); do  # ready when it prints {"port": N}
        port=$(sed -n 's/.*"port": *\([0-9][0-9]*\).*/\1/p' "$ready")
        [ -n "$port" ] && break
        sleep 0.1
    done
    rm -f "$ready"
    if [ -z "$port" ]; then
        echo "tests/servers/$2 did not start" >&2
        return 1
    fi
    printf -v "$1" 'http://127.0.0.1:%s' "$port"
}

start_servers() {
    trap stop_servers EXIT
    start_server NODE4_URL node4.js
    start_server NODE2_URL node2.js
}

stop_servers() {
    kill "${SERVER_PIDS[@]}" 2>/dev/null || true
}
