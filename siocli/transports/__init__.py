"""The live transports (asyncio): long-polling over httpx, WebSocket over websockets, and the
driver that runs the core's ClientSession over them. Library exceptions are translated into
siocli's own (:mod:`.errors`) here, once."""
