"""The opspec node: the node API over HTTP and WebSocket (aiohttp), one module per endpoint.

core.py holds ``Node`` (the executor, event store and broker behind the API), routing.py the raw-path
router, app.py the aiohttp application that assembles the endpoint modules, server.py the server and
its lifecycle, client.py ``NodeClient`` (requests and websockets; no aiohttp). This file imports
nothing, so using the client never imports the server.
"""
