"""Limits parse once, with messages that say what is wrong; defaults merge under a run's own limits."""

import pytest

from pytest_opspec.limits import MIN_MEMORY_BYTES, Limits, LimitError, Network, format_bytes, parse_cpus, \
    parse_memory, parse_network, parse_pids


@pytest.mark.parametrize(("text", "size"), [
    ("64m", 64 * 1024**2), ("64M", 64 * 1024**2), ("64MiB", 64 * 1024**2), ("64mb", 64 * 1024**2),
    ("1g", 1024**3), ("1.5g", 1536 * 1024**2), ("8192k", 8 * 1024**2), ("67108864", 64 * 1024**2),
    (67108864, 64 * 1024**2), (" 7m ", 7 * 1024**2),
])
def test_memory_sizes_read_as_docker_reads_them(text, size):
    assert parse_memory(text) == size


@pytest.mark.parametrize(("text", "message"), [
    ("64x", "is not a memory size"), ("", "is not a memory size"), ("m", "is not a memory size"),
    ("-1m", "is not a memory size"), ("5m", "below the smallest memory limit the engine accepts (6m)"),
    (True, "is not a memory size"),
])
def test_bad_memory_sizes_say_why(text, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_memory(text)


def test_the_smallest_accepted_memory_is_the_engines():
    assert parse_memory("6m") == MIN_MEMORY_BYTES


@pytest.mark.parametrize(("text", "cpus"), [("0.5", 0.5), ("2", 2.0), (1, 1.0), ("0.01", 0.01)])
def test_cpus(text, cpus):
    assert parse_cpus(text) == cpus


@pytest.mark.parametrize(("text", "message"), [
    ("half", "is not a number of cpus"), ("0", "at least 0.01"), ("-1", "at least 0.01"), ("nan", "at least 0.01"),
    ("inf", "at least 0.01"), (False, "is not a number of cpus"),
])
def test_bad_cpus(text, message):
    with pytest.raises(ValueError, match=message):
        parse_cpus(text)


@pytest.mark.parametrize(("text", "message"), [
    ("many", "is not a whole number"), ("0", "at least 1"), ("1.5", "is not a whole number"), (2.5, "whole number"),
])
def test_bad_pids(text, message):
    with pytest.raises(ValueError, match=message):
        parse_pids(text)


def test_network_modes():
    assert parse_network("none") is Network.NONE
    assert parse_network("OP") is Network.OP
    with pytest.raises(ValueError, match="expected 'op' or 'none'"):
        parse_network("host")


def test_limits_from_a_scenario_mapping():
    limits = Limits.parse({"memory": "64m", "cpus": 0.5, "pids": 64, "network": "none"})
    assert limits == Limits(memory_bytes=64 * 1024**2, cpus=0.5, pids=64, network=Network.NONE)
    assert limits.no_network
    assert limits.describe() == "memory 64 MiB, cpus 0.5, pids 64, network none"
    assert Limits().describe() == "no limits"


def test_a_bad_limit_names_where_it_was_given():
    with pytest.raises(LimitError, match=r"^scenarios.yml:3: limits.memory: 'lots' is not a memory size"):
        Limits.parse({"memory": "lots"}, where="scenarios.yml:3: limits")
    with pytest.raises(LimitError, match="unknown limit 'memroy'; expected one of memory, cpus, pids, network"):
        Limits.parse({"memroy": "64m"})


def test_a_runs_limits_override_defaults_field_by_field():
    defaults = Limits(memory_bytes=128 * 1024**2, pids=32)
    merged = Limits(memory_bytes=64 * 1024**2, network=Network.NONE).over(defaults)
    assert merged == Limits(memory_bytes=64 * 1024**2, pids=32, network=Network.NONE)
    assert not Limits()
    assert Limits(pids=1)


@pytest.mark.parametrize(("size", "text"), [
    (64 * 1024**2, "64 MiB"), (1536 * 1024**2, "1.5 GiB"), (512, "512 B"), (1536, "1.5 KiB"),
])
def test_sizes_read_well(size, text):
    assert format_bytes(size) == text
