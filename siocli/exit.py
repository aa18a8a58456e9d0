"""siocli's exit codes: one table, one code per failure class.

==== ======================= ==========================================================
code name                    meaning
==== ======================= ==========================================================
0    OK                      success
1    FINDINGS                ``--strict`` and a protocol violation was found
2    USAGE                   bad command line, or input that cannot be read at all
3    CONNECT_FAILED          the server could not be reached or refused the connection
4    NAMESPACE_REJECTED      the server answered CONNECT_ERROR
5    TIMEOUT                 no answer in time (ack, handshake, ``--timeout``)
6    REPLAY_MISMATCH         replay: the server did not answer as recorded (--serve --strict:
                             a client did not act as recorded)
7    SERVER_ERROR            the server broke the protocol or closed the session
70   INTERNAL                a bug in siocli (please report it, with ``--traceback``)
130  INTERRUPTED             Ctrl-C
==== ======================= ==========================================================
"""

from __future__ import annotations

import enum

__all__ = ["ExitStatus"]


class ExitStatus(enum.IntEnum):
    OK = 0
    FINDINGS = 1
    USAGE = 2
    CONNECT_FAILED = 3
    NAMESPACE_REJECTED = 4
    TIMEOUT = 5
    REPLAY_MISMATCH = 6
    SERVER_ERROR = 7
    INTERNAL = 70
    INTERRUPTED = 130
