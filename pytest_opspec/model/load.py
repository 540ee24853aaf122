"""Load one op.yml: read it, parse it as YAML 1.2, validate it against the schema, model it.

A text found valid before comes back parsed from the op cache (op_cache.py) instead; the parser and the
schema load only when it does not.
"""

from __future__ import annotations

from pathlib import Path

from . import op_cache
from .build import build_op
from .document import YamlDocument, read_op_text
from .problems import InvalidOpError, Problem, json_pointer, sort_problems
from .types import OpDefinition, nearest_position

OP_FILE = "op.yml"


def op_file_of(path: str | Path) -> Path:
    """The op.yml of a package directory, or ``path`` itself when it names a file."""
    path = Path(path)
    return path if path.name == OP_FILE or path.is_file() else path / OP_FILE


def load_op(path: str | Path) -> OpDefinition:
    """The typed model of the op at ``path`` (a package directory or its op.yml).

    Raises InvalidOpError, whose ``problems`` list every YAML and schema error with its line.
    Static checks (refs, defaults, cycles...) are not run here; see validate_package.
    """
    file = op_file_of(path)
    text = read_op_text(file)
    cache = op_cache.current()
    document = cache.get(file, text) if cache else None
    if document is None:
        document = _parsed(file, text)
        problems = schema_problems(file, document)
        if problems:
            raise InvalidOpError(file, problems)
        if cache:
            cache.put(file, text, document)
    return build_op(document.data, file, document.positions, document.key_positions)


def read_op_document(file: Path) -> YamlDocument:
    """op.yml parsed as YAML 1.2; raises InvalidOpError unless it is a mapping."""
    return _parsed(file, read_op_text(file))


def _parsed(file: Path, text: str) -> YamlDocument:
    from .yaml12 import parse_yaml  # here: a cached op needs no YAML parser

    document = parse_yaml(text, file)
    data = document.data
    if not isinstance(data, dict):
        kind = "a sequence" if isinstance(data, list) else "null" if data is None else f"a {type(data).__name__}"
        raise InvalidOpError(file, [Problem(file, f"an op.yml must be a mapping (with at least 'name'), "
                                                  f"not {kind}", (), document.positions.get(""))])
    return document


def schema_problems(file: Path, document: YamlDocument) -> list[Problem]:
    """The schema errors of a parsed op.yml, each at its line; [] when it is valid."""
    from .schema import schema_issues  # here: a cached op needs no schema check

    problems = []
    for issue in schema_issues(document.data):
        pointer = json_pointer(issue.location)
        position = ((document.key_positions.get(pointer) if issue.at_key else None)
                    or nearest_position(document.positions, pointer))
        problems.append(Problem(file, issue.message, issue.location, position))
    return sort_problems(problems)
