"""siocli: a command-line debugger for Socket.IO."""

__version__ = "0.1.0"
