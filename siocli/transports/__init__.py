"""The live transports (asyncio): long-polling (over a small HTTP/1.1 client of siocli's own
for plain http://, over httpx for TLS and proxies), WebSocket over websockets, and the
driver that runs the core's ClientSession over them. Library exceptions are translated into
siocli's own (:mod:`.errors`) here, once."""
