"""Exit reasons in plain words, and how exit codes above 128 are read."""

import signal

import pytest

from pytest_opspec.runtime.exits import ContainerExit, ExitReason, signal_of

MiB = 1024 * 1024


@pytest.mark.parametrize(("ended", "words"), [
    (ContainerExit(ExitReason.EXITED, 2), "exit code 2"),
    (ContainerExit(ExitReason.OOM, 137, memory_limit_bytes=64 * MiB), "out of memory (limit 64 MiB)"),
    (ContainerExit(ExitReason.OOM, 137), "out of memory"),
    (ContainerExit(ExitReason.TIMEOUT), "stopped by the run's timeout"),
    (ContainerExit(ExitReason.KILLED), "killed"),
    (ContainerExit(ExitReason.SIGNAL, 139, signal="SIGSEGV"), "ended by SIGSEGV"),
    (ContainerExit(ExitReason.NOT_STARTED, message="pulling image x failed: denied"),
     "not started: pulling image x failed: denied"),
])
def test_reasons_in_plain_words(ended, words):
    assert ended.describe() == words


def test_figures_show_what_was_measured():
    assert ContainerExit(ExitReason.EXITED, 0, peak_memory_bytes=12 * MiB, cpu_seconds=0.314,
                         duration_seconds=1.2).figures() == "peak 12 MiB, cpu 0.31 s, 1.20 s"
    assert ContainerExit(ExitReason.EXITED, 0, duration_seconds=0.5).figures() == "0.50 s"
    assert ContainerExit(ExitReason.NOT_STARTED).figures() == ""


@pytest.mark.parametrize(("code", "sig"), [
    (139, signal.SIGSEGV), (137, signal.SIGKILL), (143, signal.SIGTERM), (134, signal.SIGABRT),
    (130, signal.SIGINT), (1, None), (128, None), (129, None), (255, None), (142, None),
])
def test_exit_codes_that_stand_for_a_fatal_signal(code, sig):
    assert signal_of(code) == sig
