"""Turn a schema-valid op.yml document into the typed model (model/types.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from ..values import ValueType
from .problems import Location, json_pointer
from .types import (Call, ContainerCall, Image, OpCall, OpDefinition, ParallelCall, Param, Position,
                    PullCreds, SerialCall)


def build_op(document: dict[str, Any], file: Path, positions: Mapping[str, Position],
             key_positions: Mapping[str, Position]) -> OpDefinition:
    """The model of a document that passed the op.yml schema (shapes are trusted here)."""
    builder = _Builder(positions, key_positions)
    run = document.get("run")
    return OpDefinition(
        name=document["name"],
        path=file,
        description=document.get("description"),
        version=document.get("version"),
        inputs=builder.params(document.get("inputs"), ("inputs",)),
        outputs=builder.params(document.get("outputs"), ("outputs",)),
        run=builder.call(run, ("run",)) if run is not None else None,
        positions=positions,
        key_positions=key_positions,
    )


class _Builder:
    def __init__(self, positions: Mapping[str, Position], key_positions: Mapping[str, Position]) -> None:
        self.positions = positions
        self.key_positions = key_positions

    def where(self, location: Location, at_key: bool = False) -> dict[str, Any]:
        """pointer and position of a node; ``at_key``: the position of its key (a param's name)."""
        pointer = json_pointer(location)
        position = (self.key_positions.get(pointer) if at_key else None) or self.positions.get(pointer)
        return {"pointer": pointer, "position": position}

    def params(self, declared: dict[str, Any] | None, location: Location) -> dict[str, Param]:
        params = {}
        for name, param in (declared or {}).items():
            ((type_name, body),) = param.items()
            body = body or {}
            params[name] = Param(
                name=name,
                type=ValueType(type_name),
                description=body.get("description"),
                default=body.get("default"),
                has_default="default" in body,
                is_secret=bool(body.get("isSecret", False)),
                constraints=body.get("constraints"),
                **self.where((*location, name), at_key=True),
            )
        return params

    def call(self, call: dict[str, Any], location: Location) -> Call:
        if "container" in call:
            return self.container(call["container"], (*location, "container"))
        if "op" in call:
            return self.op(call["op"], (*location, "op"))
        kind = "serial" if "serial" in call else "parallel"
        children = tuple(self.call(child, (*location, kind, index)) for index, child in enumerate(call[kind]))
        cls = SerialCall if kind == "serial" else ParallelCall
        return cls(calls=children, **self.where((*location, kind)))

    def container(self, container: dict[str, Any], location: Location) -> ContainerCall:
        image = container["image"]
        cmd = container.get("cmd")
        return ContainerCall(
            image=Image(ref=image["ref"], pull_creds=_pull_creds(image.get("pullCreds"))),
            cmd=tuple(cmd) if cmd is not None else None,
            dirs=dict(container.get("dirs") or {}),
            env_vars=dict(container.get("envVars") or {}),
            files=dict(container.get("files") or {}),
            name=container.get("name"),
            ports=dict(container.get("ports") or {}),
            sockets=dict(container.get("sockets") or {}),
            std_out=dict(container.get("stdOut") or {}),
            std_err=dict(container.get("stdErr") or {}),
            work_dir=container.get("workDir"),
            **self.where(location),
        )

    def op(self, op: dict[str, Any], location: Location) -> OpCall:
        pkg = op["pkg"]
        return OpCall(
            pkg_ref=pkg["ref"],
            pull_creds=_pull_creds(pkg.get("pullCreds")),
            inputs=dict(op.get("inputs") or {}),
            outputs=dict(op.get("outputs") or {}),
            **self.where(location),
        )


def _pull_creds(creds: dict[str, Any] | None) -> PullCreds | None:
    return PullCreds(username=creds["username"], password=creds["password"]) if creds else None
