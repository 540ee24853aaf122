"""The opspec node: the node API over HTTP and WebSocket, one module per endpoint."""

from .app import DataDirInUseError, Node, NodeSettings, create_app, default_data_dir
from .server import DEFAULT_HOST, DEFAULT_PORT, BackgroundNode, ListenError, NodeServer, parse_listen, serve

__all__ = [
    "DEFAULT_HOST", "DEFAULT_PORT", "BackgroundNode", "DataDirInUseError", "ListenError", "Node", "NodeServer",
    "NodeSettings", "create_app", "default_data_dir", "parse_listen", "serve",
]
