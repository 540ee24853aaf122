"""Running the selected checks against a node: set-up (packages, the bundled node, the engine), one
check at a time with its outcome and duration, and tear-down.

Outcomes: Pass; Skip (the node declares it does not support an optional feature: ``CheckSkipped``);
Disabled (turned off by configuration: ``--disable``, ``--engine none``, ...); Fail (the node does
not conform: ``CheckFailed`` or a failed ``assert``); Error (the suite itself broke: anything else).
"""

from __future__ import annotations

import fnmatch
import http.client
import shutil
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import StrEnum
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

from ..errors import OpspecError

from .checks import profile_checks
from .config import Config, redact_url
from .context import Context
from .engine import Engine, EngineUnavailable, open_engine
from .pkgs import write_packages
from .profiles import PROFILES, Profile
from .registry import Check, CheckDisabled, CheckSkipped, Level
from .transport import Node

LOOPBACK = ("127.0.0.1", "::1", "localhost")


class Outcome(StrEnum):
    PASS = "pass"
    SKIP = "skip"
    DISABLED = "disabled"
    FAIL = "fail"
    ERROR = "error"


@dataclass
class CheckResult:
    check: Check
    outcome: Outcome
    message: str = ""
    duration: float = 0.0

    def to_json(self) -> dict[str, Any]:
        check = self.check
        return {"id": check.id, "endpoint": check.endpoint.value, "level": check.level.value, "title": check.title,
                "clause": check.clause.text, "clause_source": check.clause.source, "outcome": self.outcome.value,
                "message": self.message, "duration_s": round(self.duration, 3)}


@dataclass
class SuiteRun:
    """The result of one run: what was checked against which node, and every check's outcome."""

    config: Config
    url: str
    bundled: bool
    profile: Profile
    started_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    duration: float = 0.0
    results: list[CheckResult] = field(default_factory=list)
    setup_error: str | None = None

    def failing(self, fail_on: Level | None = None) -> list[CheckResult]:
        """Errors, and failures at ``fail_on`` (default: the configured level) or above."""
        threshold = (fail_on or self.config.fail_on).rank
        return [r for r in self.results if r.outcome is Outcome.ERROR
                or (r.outcome is Outcome.FAIL and r.check.level.rank <= threshold)]

    @property
    def exit_status(self) -> int:
        return 1 if self.failing() or self.setup_error else 0

    def count(self, outcome: Outcome) -> int:
        return sum(1 for result in self.results if result.outcome is outcome)


def selected_checks(config: Config) -> list[tuple[Check, str | None]]:
    """The profile's checks that ``--select`` keeps, each with why it is disabled (or None)."""
    chosen = []
    for check in profile_checks(config.profile):
        if config.select and not any(fnmatch.fnmatchcase(check.id, pattern) for pattern in config.select):
            continue
        disabled = next((pattern for pattern in config.disable if fnmatch.fnmatchcase(check.id, pattern)), None)
        chosen.append((check, f"turned off by --disable {disabled}" if disabled else None))
    return chosen


def run_check(check: Check, ctx: Context) -> CheckResult:
    ctx.check_id = check.id
    started = time.monotonic()
    try:
        check.function(ctx)
        outcome, message = Outcome.PASS, ""
    except CheckSkipped as skipped:
        outcome, message = Outcome.SKIP, str(skipped)
    except CheckDisabled as disabled:
        outcome, message = Outcome.DISABLED, str(disabled)
    except AssertionError as failure:
        outcome, message = Outcome.FAIL, str(failure) or _where(failure)
    except Exception as error:  # the suite itself broke: say where
        outcome, message = Outcome.ERROR, f"{type(error).__name__}: {error}\n{_where(error)}"
    return CheckResult(check, outcome, message, time.monotonic() - started)


def _where(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    return "".join(traceback.format_list(frames[-3:])).rstrip() if frames else ""


def _is_local(url: str) -> bool:
    return (urlsplit(url).hostname or "") in LOOPBACK


class Suite:
    """Set-up and tear-down around the checks; ``run`` does it all, the pytest plugin goes step by step."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.profile = PROFILES[config.profile]
        self.context: Context | None = None
        self.bundled = config.url is None
        self.url = config.url or ""
        self.setup_error: str | None = None
        self._node: Any = None
        self._engine: Engine | None = None
        self._temp_dir: Path | None = None

    def start(self) -> Context:
        """Write the packages, start the bundled node if needed, and make sure the node answers.
        Raises SetupError with a complete message when something is missing."""
        if self.context is not None:
            return self.context
        try:
            pkg_dir = self.config.pkg_dir
            if pkg_dir is None:
                self._temp_dir = pkg_dir = Path(tempfile.mkdtemp(prefix="opspec-conformance-"))
            try:
                packages = write_packages(pkg_dir.resolve(), self.config.image, self.config.pkg_ref_template)
            except OSError as error:
                raise SetupError(f"cannot write the suite's packages to {pkg_dir}: {error}") from None
            if self.bundled:
                from .bundled import BundledNode

                try:
                    self._node = BundledNode.start()
                except OpspecError as error:
                    raise SetupError(f"cannot start the bundled node: {error}") from None
                self.url = self._node.url
            _wait_until_answering(self.url, self.config.timeout)
            try:
                engine, reason = open_engine(self.config.engine, self.bundled or _is_local(self.url))
            except EngineUnavailable as error:
                raise SetupError(f"--engine: {error}") from None
            self._engine = engine
            self.context = Context(self.config, self.url, packages, engine, reason)
            return self.context
        except SetupError as error:
            self.setup_error = str(error)
            self.close()
            raise

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None
        if self._node is not None:
            self._node.stop()
            self._node = None
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None

    def run(self, on_result: Callable[[CheckResult], None] | None = None) -> SuiteRun:
        run = SuiteRun(self.config, self.url, self.bundled, self.profile)
        started = time.monotonic()
        try:
            context = self.start()
        except SetupError as error:
            run.setup_error = str(error)
            run.results = [CheckResult(check, Outcome.ERROR, f"set-up failed: {error}")
                           for check, _ in selected_checks(self.config)]
            run.url = self.url
            run.duration = time.monotonic() - started
            return run
        run.url = self.url
        try:
            for check, disabled in selected_checks(self.config):
                result = CheckResult(check, Outcome.DISABLED, disabled) if disabled else run_check(check, context)
                run.results.append(result)
                if on_result is not None:
                    on_result(result)
        finally:
            self.close()
        run.duration = time.monotonic() - started
        return run


class SetupError(Exception):
    """The suite could not get ready (no node answers, packages cannot be written, ...)."""


def _wait_until_answering(url: str, timeout: float) -> None:
    """Any HTTP answer to GET /liveness will do; a node that does not answer at all is a set-up error."""
    node = Node(url)
    deadline = time.monotonic() + min(timeout, 10.0)
    while True:
        connection = node.connection(5.0)
        try:
            connection.request("GET", node.prefix + "/liveness", headers=node.auth)
            connection.getresponse().read()
            return
        except (OSError, http.client.HTTPException) as error:
            if time.monotonic() > deadline:
                raise SetupError(f"no node answers at {redact_url(url)} ({type(error).__name__}: {error})") from None
            time.sleep(0.2)
        finally:
            connection.close()
