# Starts the test servers that recordings/ were made against (sourced by record.sh and by
# .ci/run): socket.io 4.8 on 127.0.0.1:3400, socket.io 2.5 on 127.0.0.1:3402.
NODE4_URL=http://127.0.0.1:3400
NODE2_URL=http://127.0.0.1:3402
SERVER_PIDS=()

start_servers() {
    node tests/servers/node4.js '{"port": 3400}' >/dev/null &
    SERVER_PIDS+=($!)
    node tests/servers/node2.js '{"port": 3402}' >/dev/null &
    SERVER_PIDS+=($!)
    trap stop_servers EXIT
    for port in 3400 3402; do  # ready when they accept connections
        for _ in $(seq 50); do
            (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
            sleep 0.1
        done
    done
}

stop_servers() {
    kill "${SERVER_PIDS[@]}" 2>/dev/null || true
}
