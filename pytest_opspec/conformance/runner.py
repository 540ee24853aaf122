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
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import StrEnum
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import urlsplit

from ..errors import OpspecError
from ..node.tls import ClientTLS

from .checks import profile_checks
from .config import Config, redact_url
from .context import Context
from .engine import Engine, EngineUnavailable, open_engine
from .node_container import NodeContainer, NodeContainerError, NodeImage
from .pkgs import write_packages
from .profiles import PROFILES, Profile
from .registry import Check, CheckDisabled, CheckFailed, CheckSkipped, Endpoint, Level
from .transport import Node

LOOPBACK = ("127.0.0.1", "::1", "localhost")
# Exit status when the node could not be checked at all (no answer on /liveness, the suite's image
# missing on the node's engine, ...): not a verdict on the node.
EXIT_SETUP_ERROR = 3
# Seconds a failed check waits for the node's last lines to reach its log (the engine timestamps a line
# when it receives it).
LOG_SETTLE = 0.1
# The endpoints whose checks run the suite's ops (their set-up includes running one).
RUNS_OPS = (Endpoint.OPS_STARTS, Endpoint.OPS_KILLS, Endpoint.EVENTS_STREAM)


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
    node_log: str = ""  # what a --node-image node logged while the check ran (failures and errors only)

    def to_json(self) -> dict[str, Any]:
        check = self.check
        document = {"id": check.id, "endpoint": check.endpoint.value, "level": check.level.value,
                    "title": check.title, "clause": check.clause.text, "clause_source": check.clause.source,
                    "reference_only": check.clause.reference_only, "outcome": self.outcome.value,
                    "message": self.message, "duration_s": round(self.duration, 3)}
        if self.node_log:
            document["node_log"] = self.node_log
        return document


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
    node_image: str | None = None  # the image the node was started from (--node-image)
    node_log: str = ""  # the end of that node's log

    def failing(self, fail_on: Level | None = None) -> list[CheckResult]:
        """Errors, and failures at ``fail_on`` (default: the configured level) or above."""
        threshold = (fail_on or self.config.fail_on).rank
        return [r for r in self.results if r.outcome is Outcome.ERROR
                or (r.outcome is Outcome.FAIL and r.check.level.rank <= threshold)]

    @property
    def exit_status(self) -> int:
        if self.setup_error:
            return EXIT_SETUP_ERROR
        return 1 if self.failing() else 0

    def count(self, outcome: Outcome) -> int:
        return sum(1 for result in self.results if result.outcome is outcome)


def selected_checks(config: Config, extra: Iterable[Check] = ()) -> list[tuple[Check, str | None]]:
    """The profile's checks (with ``extra`` ones) that ``--select`` keeps, each with why it is disabled
    (or None)."""
    chosen = []
    for check in profile_checks(config.profile, extra):
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
        self.bundled = config.url is None and config.node_image is None
        self.url = config.url or ""
        self.setup_error: str | None = None
        self.node_log = ""
        self.owner = f"conformance-{uuid.uuid4().hex}"  # labels the --node-image container
        self._node: Any = None
        self._container: NodeContainer | None = None
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
            elif self.config.node is not None:
                self._start_container(self.config.node, packages.root)
            _wait_until_answering(self.url, self.config.timeout, self.config.client_tls)
            try:
                engine, reason = open_engine(self.config.engine, self.bundled or _is_local(self.url))
            except EngineUnavailable as error:
                raise SetupError(f"--engine: {error}") from None
            self._engine = engine
            context = Context(self.config, self.url, packages, engine, reason)
            if any(check.endpoint in RUNS_OPS for check, disabled in selected_checks(self.config) if not disabled):
                _check_ops_can_run(context)
            self.context = context
            return context
        except SetupError as error:
            self.setup_error = str(error)
            self.close()
            raise
        except BaseException:  # Ctrl-C, SIGTERM: nothing started may outlive the run
            self.close()
            raise

    def _start_container(self, spec: NodeImage, pkg_root: Path) -> None:
        """Start the node from its image, the package dir mounted where the suite names it (unless a
        --node-volume already mounts something there), and wait for its /liveness."""
        mounts = () if any(volume.split(":")[1] == str(pkg_root) for volume in spec.volumes) else (
            f"{pkg_root}:{pkg_root}:ro",)
        try:
            self._container = NodeContainer.start(spec, self.owner, mounts)
            self.url = self._container.url
            self._container.wait_until_live(self.config.timeout)
        except NodeContainerError as error:
            raise SetupError(str(error)) from None

    def check(self, check: Check, disabled: str | None = None) -> CheckResult:
        """Run one check (set-up first, if not done yet: it may raise SetupError). A failure gets what a
        --node-image node logged meanwhile."""
        if disabled:
            return CheckResult(check, Outcome.DISABLED, disabled)
        context = self.start()
        started = time.time()
        result = run_check(check, context)
        if self._container is not None and result.outcome in (Outcome.FAIL, Outcome.ERROR):
            time.sleep(LOG_SETTLE)
            result.node_log = self._container.logs(since=started)
        return result

    def close(self) -> None:
        if self._container is not None:
            try:
                self.node_log = self._container.logs()
            finally:
                self._container.remove()
                self._container = None
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
            self.start()
        except SetupError as error:
            run.setup_error = str(error)
            run.url = self.url
            self.record_node(run)
            run.duration = time.monotonic() - started
            return run
        run.url = self.url
        try:
            for check, disabled in selected_checks(self.config):
                result = self.check(check, disabled)
                run.results.append(result)
                if on_result is not None:
                    on_result(result)
        finally:
            self.close()
            self.record_node(run)
        run.duration = time.monotonic() - started
        return run

    def record_node(self, run: SuiteRun) -> None:
        """What the reports say about a --node-image node: its image and the end of its log."""
        run.node_image = self.config.node_image
        run.node_log = self.node_log


class SetupError(Exception):
    """The suite could not get ready (no node answers, packages cannot be written, ...)."""


def _wait_until_answering(url: str, timeout: float, tls: ClientTLS | None) -> None:
    """Any HTTP answer to GET /liveness will do; a node that does not answer at all is a set-up error."""
    node = Node(url, tls)
    deadline = time.monotonic() + min(timeout, 10.0)
    while True:
        connection = node.connection(5.0)
        try:
            connection.request("GET", node.prefix + "/liveness", headers=node.auth)
            connection.getresponse().read()
            return
        except (OSError, http.client.HTTPException) as error:
            if time.monotonic() > deadline:
                raise SetupError(f"no node answers GET /liveness at {redact_url(url)} within {min(timeout, 10.0):g} s "
                                 f"({type(error).__name__}: {error})") from None
            time.sleep(0.2)
        finally:
            connection.close()


def _check_ops_can_run(ctx: Context) -> None:
    """Run the suite's simplest op once (the checks share its run). When it fails because the suite's
    image cannot run on the node, that is one set-up error, not a failure of every check that runs an
    op: the image is missing on the node's engine (when the suite can see that engine), or the op's
    error names it."""
    from . import events
    from .scenarios import quick_run

    try:
        run = ctx.scenario(quick_run).run
    except CheckFailed:
        return  # the node did not start or finish it: the checks report that
    if run.outcome == "SUCCEEDED":
        return
    image = ctx.config.image
    erred = " ".join(str(events.field(m.document, "msg")) for m in run.events
                     if events.event_type(m.document) == "opErred")
    missing = ctx.has_engine and not ctx.engine.has_image(image)
    if missing or image in erred:
        where = "is not on the node's engine" if missing else "cannot be run by the node"
        raise SetupError(f"the suite's image {image} {where}: the suite's simplest op ({run.op_id}) ended "
                         f"{run.outcome}{': ' + erred if erred else ''}. Make {image} available to the node's "
                         "engine (docker pull or docker load there), or pass --image naming an image with sh "
                         "that the node can run")
