"""The bundled node, started in-process when no URL is given: a free loopback port, a temporary data
dir, and stopped (its containers removed) at the end."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from ..backends.runtime import make_runtime
from ..node.core import Node, NodeSettings
from ..node.server import BackgroundNode


class BundledNode:
    def __init__(self, background: BackgroundNode, data_dir: Path) -> None:
        self._background = background
        self._data_dir = data_dir

    @classmethod
    def start(cls) -> BundledNode:
        data_dir = Path(tempfile.mkdtemp(prefix="opspec-conformance-node-"))
        try:
            background = BackgroundNode(Node(NodeSettings(data_dir=data_dir), make_runtime())).start()
        except BaseException:
            shutil.rmtree(data_dir, ignore_errors=True)
            raise
        return cls(background, data_dir)

    @property
    def url(self) -> str:
        return self._background.url

    def stop(self) -> None:
        """Stop as SIGTERM would: kill running ops, remove their containers, close streams."""
        try:
            self._background.stop()
        finally:
            shutil.rmtree(self._data_dir, ignore_errors=True)
