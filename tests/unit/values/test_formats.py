"""Each constraint format, with strings the reference accepts and rejects.

The lists were checked against the reference's own libraries (blang/semver, docker/distribution
reference, gojsonschema's patterns, Go's time, net and net/url). Where today's Go differs from the
Go 1.9 the reference was built with, the reference's answer is used (noted inline).
"""

from __future__ import annotations

import time

import pytest

from pytest_opspec.values.formats import FORMAT_CHECKS

PASS = {
    "semver": [
        "1.0.0",
        "0.0.0",
        "1.0.0-alpha.1+b",
        "1.0.0-0",
        "1.0.0-a-b.c",
        "1.0.0+001",
        "1.0.0+a-b.c",
        "18446744073709551615.0.0",
    ],
    "docker-image-ref": [
        "alpine",
        "alpine:3.6",
        "library/alpine",
        "docker.io/library/alpine:latest",
        "localhost:5000/a/b:tag",
        "Example.com/a",
        "a__b",
        "a_b",
        "a.b",
        "a-b",
        "a---b",
        "a@sha256:" + "a" * 64,
        "a:t@sha512:" + "0" * 128,
        "a:" + "x" * 128,
    ],
    "date-time": [
        "15:04:05",
        "1:04:05",
        "15:04:05.123",
        "15:04:05Z",
        "15:04:05+07:00",
        "15:04:05-07:00",
        "2006-01-02",
        "2004-02-29",
        "2000-02-29",
        "2006-01-02T15:04:05Z",
        "2006-01-02T15:04:05.999999999Z",
        "2006-01-02T15:04:05+07:00",
        "2006-01-02T5:04:05Z",
    ],
    "email": [
        "a@b.co",
        "first.last@example.com",
        "!#$%&'*+-/=?^_`{|}~@x.io",
        "é@ü.ïo",
        "a@b.co.",
        "a@b-c.d_e~f.gh",
        "a@1.b",
        # The reference's quoted-local-part pattern is mis-grouped; these pass there:
        '"a"@b.co',
        '"a"b"@b.co',
        '"@b.co',
        '"(x"@b.co',
    ],
    "hostname": ["a", "localhost", "a.b", "a-b.c", "A1.b2", "a" * 63, ".".join(["a" * 63] * 4)],  # 255 characters
    "ipv4": [
        "1.2.3.4",
        "0.0.0.0",
        "255.255.255.255",
        "::ffff:1.2.3.4",
        "01.02.03.004",
    ],  # Go 1.9 accepts leading zeros (Go >= 1.17 does not)
    "ipv6": [
        "::",
        "::1",
        "1::",
        "1:2:3:4:5:6:7:8",
        "fe80::1:2",
        "::ffff:1.2.3.4",
        "1:2:3:4:5:6:1.2.3.4",
        "ABCD::ef",
        "1:2:3:4:5:6:7::",
        "00001::",
    ],
    "uri": [
        "a:b",
        "http://example.com",
        "https://u:p@h:8080/p?q=1#f",
        "mailto:a b",
        "urn:isbn:0451450523",
        "http://[::1]:80/p",
        "http://%c3%a9",
        "HTTP://X",
        "a+b-c.d:e",
        "http://h/?%zz",
        "http://h:port",
    ],  # Go 1.9 does not check the port of a name host
    "integer": [3, 3.0, -7, 0, 1e300, float("inf")],
}

FAIL = {
    "semver": [
        "v1.0.0",
        "1.0",
        "01.0.0",
        "1.01.0",
        "1.0.01",
        "1.0.0-01",
        "1.0.0-",
        "1.0.0+",
        "1.0.0-a..b",
        "1.0.0+a..b",
        "18446744073709551616.0.0",
        "1.0.0-a_b",
        "1.0.0+a+b",
        "1.2.3.4",
        " 1.0.0",
        "1.0.0 ",
        "",
        "1.0.0-é",
        1,
    ],
    "docker-image-ref": [
        "Alpine",
        "a:",
        "a/B",
        "a___b",
        "a._b",
        "-a",
        "a-",
        "a/",
        "/a",
        "a//b",
        ":tag",
        "a:-t",
        "a:" + "x" * 129,
        "a" * 256,
        "a@sha256:" + "A" * 64,
        "a@sha256:" + "a" * 63,
        "a@md5:" + "a" * 32,
        "a@",
        "a b",
        "",
        "alpine\n",
        5,
    ],
    "date-time": [
        "24:00:00",
        "23:60:00",
        "23:59:60",
        "15:4:05",
        "15:04:05.",
        "15:04:05+0700",
        "2006-02-29",
        "1900-02-29",
        "2006-13-01",
        "2006-00-01",
        "2006-04-31",
        "2006-1-02",
        "06-01-02",
        "2006-01-02T15:04:05",
        "2006-01-02 15:04:05Z",
        "2006-01-02t15:04:05Z",
        "2006-01-02T15:04:05z",
        "x",
        "",
        "15:04:05,5",
        3,
    ],  # Go 1.9 has no comma fractions
    "email": [
        "a@b",
        "a@b.c1",
        "@b.co",
        "a@",
        "a..b@c.de",
        ".a@c.de",
        "a.@c.de",
        "a@-b.co",
        "a@b.-co",
        "a@.b.co",
        "a@b..co",
        '"ab"@b.co',
        '""@b.co',
        "a b@c.de",
        "a@b@c.de",
        "a@b.co\n",
        1,
    ],
    "hostname": [
        "-a",
        "a-",
        "a" * 64,
        "a..b",
        "a.",
        ".a",
        "a_b",
        "",
        ".".join(["a" * 63] * 3 + ["a" * 62, "a"]),
        "é",
        "a\n",
        1,
    ],  # the long one has 256 characters
    "ipv4": ["256.1.1.1", "1.2.3", "1.2.3.4.5", "1.2.3.4 ", " 1.2.3.4", "1.2.3.a", "::1", "", 1],
    "ipv6": [
        "1:2:3:4:5:6:7:8:9",
        "1::2::3",
        "1:2:3:4:5:1.2.3.4",
        "fe80::1%eth0",
        "10000::",
        ":1",
        "1:",
        ":::",
        "g::",
        "1.2.3.4",
        "",
        1,
    ],
    "uri": [
        "/path",
        "path",
        "1a:b",
        ":b",
        "",
        "http://x y",
        "http://x%4",
        "http://h/%zz",
        "http://h#%zz",
        "http://%41",
        "http://[::1]x",
        "http://[::1",
        "a:/p%",
        1,
    ],
    "integer": [2.5, -0.5, float("nan"), "3", 1e-300],
}


@pytest.mark.parametrize(("name", "instance"), [(name, item) for name, items in PASS.items() for item in items])
def test_format_accepts(name: str, instance: object) -> None:
    assert FORMAT_CHECKS[name](instance) is True


@pytest.mark.parametrize(("name", "instance"), [(name, item) for name, items in FAIL.items() for item in items])
def test_format_rejects(name: str, instance: object) -> None:
    assert not FORMAT_CHECKS[name](instance)


def test_every_format_of_the_op_schema_has_a_checker() -> None:
    assert set(FORMAT_CHECKS) == {
        "date-time",
        "docker-image-ref",
        "email",
        "hostname",
        "integer",
        "ipv4",
        "ipv6",
        "semver",
        "uri",
    }


@pytest.mark.parametrize(
    ("name", "evil"),
    [
        ("docker-image-ref", "a" * 27 + "!"),  # exponential for the grammar's literal "[-]*" separator
        ("docker-image-ref", "a" * 5000 + "!"),
        ("docker-image-ref", "a-" * 3000 + "!"),
        ("email", "a@" + "a." * 3000 + "-"),
        ("email", '"' + " " * 3000 + "x@b.co"),
        ("hostname", "a." * 2000 + "-"),
    ],
)
def test_checkers_stay_fast_on_hostile_input(name: str, evil: str) -> None:
    # Go's regexp engine is linear; a backtracking rewrite of the same grammar must not explode.
    started = time.perf_counter()
    assert not FORMAT_CHECKS[name](evil)
    assert time.perf_counter() - started < 2.0
