"""A TCP relay on 127.0.0.1 that cuts its connections mid-stream, for recovery tests.

Every connection accepted is piped to the backend, byte for byte, both ways. Once
:meth:`Relay.arm` is called, the next server-to-client chunk that holds ``marker`` is
forwarded only in part (up to the middle of the marker; with ``whole=True``, not at all),
and then every connection is aborted (RST): a WebSocket frame or a long-polling response
cut mid-way (or lost whole), with what the server already flushed into it lost, as on a
flaky network. New connections are relayed again afterwards.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_LINGER_RST = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends RST


class Relay:
    def __init__(self, backend: int, marker: bytes, whole: bool = False) -> None:
        self.backend = backend
        self.marker = marker
        self.whole = whole
        self.cuts = 0
        self._armed = threading.Event()
        self._cut = threading.Event()  # set once a cut happened
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self) -> None:
        """Cut at the next server chunk that holds the marker."""
        self._cut.clear()
        self._armed.set()

    def wait_cut(self, timeout: float) -> bool:
        return self._cut.wait(timeout)

    def close(self) -> None:
        self._closed = True
        self._listener.close()
        self._abort_all()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.backend))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets |= {client, server}
            threading.Thread(target=self._pipe, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, True), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, from_server: bool) -> None:
        try:
            while data := source.recv(65536):
                if from_server and self._armed.is_set() and self.marker in data:
                    self._armed.clear()
                    if not self.whole:
                        sink.sendall(data[: data.index(self.marker) + len(self.marker) // 2])
                    self.cuts += 1
                    self._abort_all()
                    self._cut.set()
                    return
                sink.sendall(data)
        except OSError:
            pass
        with self._lock:
            alive = source in self._sockets
        if alive:  # an orderly end: passed on as one
            for sock in (source, sink):
                self._close(sock, abort=False)

    def _abort_all(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            self._close(sock, abort=True)

    @staticmethod
    def _close(sock: socket.socket, abort: bool) -> None:
        try:
            if abort:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RST)
                # wakes the thread reading it: the socket goes (with a RST) when it lets go
                sock.shutdown(socket.SHUT_RD)
            else:
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        except OSError:
            pass


@contextmanager
def run_relay(backend: int, marker: bytes, whole: bool = False) -> Iterator[Relay]:
    relay = Relay(backend, marker, whole)
    try:
        yield relay
    finally:
        relay.close()
