"""The opspec node: HTTP + WebSocket server, one module per endpoint."""
