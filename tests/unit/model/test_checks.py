"""Static checks: each one fails only what cannot run and warns about deprecated or doubtful forms."""

from __future__ import annotations

from pathlib import Path

from pytest_opspec.model import CHECKS, Severity, validate_package

IMAGE = "image: {ref: alpine}"


def found(pkg: Path, check: str) -> list[tuple[str, str, str]]:
    """(severity, json path, message) of the problems ``check`` reports for ``pkg``."""
    report = validate_package(pkg)
    assert report.op is not None, [p.format() for p in report.problems]
    return [(p.severity.value, p.path, p.message) for p in report.problems if p.check == check]


def test_registry_has_one_entry_per_check() -> None:
    assert list(CHECKS) == ["no-run", "empty-block", "default-constraints", "scope-refs", "implicit-bindings",
                            "output-names", "op-refs", "op-cycles", "pkg-files"]


def test_valid_op_has_no_problems(make_pkg) -> None:
    pkg = make_pkg("ok", f"""
        name: ok
        inputs:
          who: {{string: {{default: you, constraints: {{minLength: 1}}}}}}
        outputs:
          said: {{string: {{}}}}
        run:
          serial:
            - container:
                {IMAGE}
                cmd: [echo, $(who)]
                stdOut: {{'said=': said}}
            - container:
                {IMAGE}
                envVars: {{SAID: $(said), who: }}
        """)
    report = validate_package(pkg)
    assert report.ok and report.problems == []


def test_no_run_is_a_warning(make_pkg) -> None:
    pkg = make_pkg("norun", "name: norun\n")
    (problem,) = validate_package(pkg).problems
    assert (problem.check, problem.severity) == ("no-run", Severity.WARNING)
    assert validate_package(pkg).ok


def test_empty_serial_and_parallel_fail(make_pkg) -> None:
    pkg = make_pkg("empty", "name: e\nrun:\n  serial:\n    - parallel: []\n    - serial: []\n")
    assert found(pkg, "empty-block") == [
        ("error", "run.serial[0].parallel", "empty 'parallel' list; a parallel call needs at least one call "
                                            "(the runtime fails with 'Invalid call graph')"),
        ("error", "run.serial[1].serial", "empty 'serial' list; a serial call needs at least one call "
                                          "(the runtime fails with 'Invalid call graph')"),
    ]


def test_defaults_must_satisfy_their_constraints(make_pkg) -> None:
    pkg = make_pkg("defaults", """
        name: d
        inputs:
          s: {string: {default: ab, constraints: {minLength: 3}}}
          n: {number: {default: 2.5, constraints: {format: integer}}}
          a: {array: {default: [x, x], constraints: {uniqueItems: true}}}
          ok: {string: {default: abc, constraints: {minLength: 3}}}
        run: {container: {image: {ref: alpine}}}
        """)
    problems = found(pkg, "default-constraints")
    assert [(severity, path) for severity, path, _ in problems] == [
        ("warning", "inputs.s.string.default"), ("warning", "inputs.n.number.default"),
        ("warning", "inputs.a.array.default")]
    assert problems[0][2] == ("default 'ab' violates the param's own constraints (must be at least 3 characters "
                              "long (got 2)); a call that relies on it fails")


def test_refs_must_name_an_input_or_an_earlier_value(make_pkg) -> None:
    pkg = make_pkg("refs", f"""
        name: refs
        inputs:
          known: {{string: {{}}}}
        run:
          serial:
            - container:
                {IMAGE}
                cmd: [echo, $(known), $(later), $(nope)]
                stdOut: {{'x=': later}}
            - parallel:
                - container: {{{IMAGE}, cmd: [echo, $(later)], files: {{/out: $(fromParallel)}}}}
            - container: {{{IMAGE}, cmd: [echo, $(fromParallel)]}}
        """)
    assert found(pkg, "scope-refs") == [
        ("warning", "run.serial[0].container.cmd[2]",
         "$(later) names no input and no value bound earlier; it stays literal text at run time"),
        ("warning", "run.serial[0].container.cmd[3]",
         "$(nope) names no input and no value bound earlier; it stays literal text at run time"),
        ("warning", "run.serial[2].container.cmd[1]",
         "$(fromParallel) names no input and no value bound earlier; it stays literal text at run time"),
    ]


def test_deprecated_forms_are_warnings(make_pkg) -> None:
    pkg = make_pkg("deprecated", f"""
        name: dep
        inputs:
          srcDir: {{dir: {{}}}}
        run:
          container:
            {IMAGE}
            cmd: [sh, -c, 'echo $(date +%s)', $(srcDir/sub)]
            dirs: {{/src: srcDir, /pkg: /assets, /x: $(srcDir)/x}}
        """, **{"assets/a.txt": "a"})
    messages = [(severity, message) for severity, _, message in found(pkg, "scope-refs")]
    assert messages == [
        ("warning", "$(date +%s) is not an opspec reference and stays literal text (e.g. for a shell to expand); "
                    "opspec has no escape for '$('"),
        ("warning", "$(srcDir/sub) (a path inside dir 'srcDir') is a deprecated form; write $(srcDir) (the whole "
                    "dir) and use 'sub' inside it"),
        ("warning", "bare name 'srcDir' is a deprecated form; write $(srcDir)"),
        ("warning", "bare package path '/assets' is a deprecated form; write $(/assets)"),
        ("warning", "$(srcDir)/... (a path under a dir value) is a deprecated form; write $(srcDir) (the whole "
                    "dir) and use 'x' inside it"),
    ]
    assert validate_package(pkg).ok


def test_dir_under_an_unknown_name_cannot_be_mounted(make_pkg) -> None:
    pkg = make_pkg("undir", f"name: u\nrun:\n  container:\n    {IMAGE}\n    dirs: {{/x: $(nothing)/sub}}\n")
    assert found(pkg, "scope-refs") == [
        ("error", 'run.container.dirs["/x"]', "'$(nothing)/sub' is a path under $(nothing), which names no input "
                                              "and no value bound earlier; there is no dir to mount")]


def test_file_and_dir_outputs_are_not_reported(make_pkg) -> None:
    pkg = make_pkg("outs", f"name: o\nrun:\n  container:\n    {IMAGE}\n    files: {{/o: $(out)}}\n"
                           f"    dirs: {{/d: $(outDir)}}\n")
    assert found(pkg, "scope-refs") == []


def test_implicit_bindings_need_the_name_in_scope(make_pkg) -> None:
    make_pkg("callee", "name: callee\ninputs:\n  x: {string: {default: a}}\n  y: {string: {default: b}}\n")
    pkg = make_pkg("caller", f"""
        name: caller
        inputs:
          x: {{string: {{}}}}
        run:
          serial:
            - container: {{{IMAGE}, envVars: {{x: , HOME: }}}}
            - op: {{pkg: {{ref: callee}}, inputs: {{x: , y: ''}}}}
        """)
    assert [(severity, path) for severity, path, _ in found(pkg, "implicit-bindings")] == [
        ("error", "run.serial[0].container.envVars.HOME"), ("error", "run.serial[1].op.inputs.y")]
    report = validate_package(pkg)
    assert report.problems[0].format().startswith(f"{pkg}/op.yml:6:56: run.serial[0].container.envVars.HOME: ")


def test_local_op_refs(make_pkg) -> None:
    make_pkg(".opspec/callee", "name: callee\ninputs:\n  must: {string: {}}\n  opt: {dir: {default: /}}\n"
                               "outputs:\n  out: {string: {}}\n")
    make_pkg("nofile/x", "name: x\n")
    (Path(make_pkg("nofile/x", "name: x\n")) / "op.yml").unlink()
    pkg = make_pkg("caller", """
        name: caller
        inputs:
          d: {dir: {}}
        run:
          serial:
            - op: {pkg: {ref: callee}, inputs: {opt: d, extra: 1}, outputs: {mine: out, other: }}
            - op: {pkg: {ref: missing}}
            - op: {pkg: {ref: nofile/x}}
            - op: {pkg: {ref: 'github.com/opspec-pkgs/x#1.0.0'}}
            - op: {pkg: {ref: 'https://github.com/opspec-pkgs/x#1.0.0'}}
        """)
    problems = found(pkg, "op-refs")
    assert [(severity, path) for severity, path, _ in problems] == [
        ("error", "run.serial[0].op.inputs"),
        ("warning", "run.serial[0].op.inputs.opt"),
        ("error", "run.serial[0].op.inputs.extra"),
        ("warning", "run.serial[0].op.outputs.other"),
        ("warning", "run.serial[1].op.pkg.ref"),
        ("warning", "run.serial[2].op.pkg.ref"),
        ("warning", "run.serial[3].op.pkg.ref"),
        ("warning", "run.serial[4].op.pkg.ref"),
    ]
    messages = [message for _, _, message in problems]
    assert messages[0] == "op 'callee' requires input 'must' (it has no default) but the call does not bind it"
    assert messages[1] == "bare scope name 'd' for dir input 'opt' is deprecated; write $(d)"
    assert messages[2] == "op 'callee' declares no input 'extra' (its inputs: must, opt)"
    assert messages[4].startswith("local op 'missing' not found (looked in ")
    assert messages[6].startswith("remote op github.com/opspec-pkgs/x#1.0.0 not checked: it is not mapped, vendored "
                                  "or cached")


def test_invalid_callee_fails_the_caller(make_pkg) -> None:
    make_pkg("callee", "name: [bad]\n")
    pkg = make_pkg("caller", "name: caller\nrun:\n  op: {pkg: {ref: callee}}\n")
    ((severity, path, message),) = found(pkg, "op-refs")
    assert (severity, path) == ("error", "run.op.pkg.ref")
    assert "is invalid: 1 error(s), first: " in message and "name: expected string" in message


def test_cycles_between_local_packages(make_pkg) -> None:
    a = make_pkg("a", "name: a\nrun:\n  op: {pkg: {ref: b}}\n")
    make_pkg("b", "name: b\nrun:\n  serial:\n    - op: {pkg: {ref: c}}\n")
    make_pkg("c", "name: c\nrun:\n  op: {pkg: {ref: a}}\n")
    self_call = make_pkg("self", "name: self\nrun:\n  op: {pkg: {ref: self}}\n")
    ((severity, path, message),) = found(a, "op-cycles")
    assert (severity, path) == ("error", "run.op.pkg.ref")
    assert message.endswith(f"{a} -> {a.parent / 'b'} -> {a.parent / 'c'} -> {a}; the op would call itself forever")
    assert len(found(self_call, "op-cycles")) == 1


def test_plain_output_names_only(make_pkg) -> None:
    pkg = make_pkg("outnames", "name: o\nrun:\n  op: {pkg: {ref: 'x/y#1.0.0'}, outputs: {$(srcDir/a.json): r}}\n")
    ((severity, path, message),) = found(pkg, "output-names")
    assert (severity, path) == ("warning", 'run.op.outputs["$(srcDir/a.json)"]')


def test_missing_package_paths_are_warnings(make_pkg) -> None:
    pkg = make_pkg("files", f"""
        name: f
        run:
          container:
            {IMAGE}
            files: {{/cmd.sh: , /there.sh: }}
            cmd: [cat, $(/missing.txt)]
        """, **{"there.sh": "echo"})
    assert found(pkg, "pkg-files") == [
        ("warning", 'run.container.files["/cmd.sh"]',
         "'/cmd.sh' (bound to the same path of the package) does not exist in the package"),
        ("warning", "run.container.cmd[1]", "'/missing.txt' (referenced as $(/missing.txt)) does not exist in "
                                            "the package")]
    assert found(pkg, "scope-refs") == []


def test_unclosed_refs_and_misspelled_names_say_what_to_write(make_pkg) -> None:
    pkg = make_pkg("typos", f"""
        name: typos
        inputs:
          src: {{ dir: {{}} }}
          greeting: {{ string: {{}} }}
        run:
          container:
            {IMAGE}
            cmd: [echo, '$(contents', $(greting)]
            dirs: {{ /src2: $(srcc), /built: $(output) }}
        """)
    messages = [message for _, _, message in found(pkg, "scope-refs")]
    assert messages == [
        "'$(contents' opens '$(' without a closing ')': it stays literal text at run time; write $(name)",
        "$(greting) names no input and no value bound earlier; it stays literal text at run time; "
        "did you mean $(greeting)?",
        "'srcc' names nothing in scope, so the container starts with an empty dir here (bound as a new value "
        "'srcc'); did you mean $(src)?",
    ]


def test_an_unknown_input_of_a_callee_suggests_the_declared_one(make_pkg) -> None:
    make_pkg("greet", f"name: greet\ninputs:\n  greeting: {{ string: {{}} }}\nrun: {{ container: {{ {IMAGE} }} }}\n")
    caller = make_pkg("caller", "name: caller\nrun:\n  op:\n    pkg: { ref: ../greet }\n    inputs: { greting: hi }\n")
    [(_, _, message)] = [problem for problem in found(caller, "op-refs") if "greting" in problem[2]]
    assert message.endswith("declares no input 'greting' (its inputs: greeting); did you mean 'greeting'?")


def test_schema_errors_do_not_hide_static_findings(make_pkg) -> None:
    pkg = make_pkg("both", f"""
        name: both
        inputs:
          who: {{string: {{}}}}
          bad: {{strin: {{}}}}
        run:
          serial:
            - container:
                image: {{reff: alpine}}
                cmd: [echo, $(nobody)]
            - container:
                {IMAGE}
                cmd: [echo, $(who), $(bad), $(whoo)]
                bogus: 1
            - serial: []
        """)
    report = validate_package(pkg)
    assert report.op is None
    shown = [(p.check, p.path) for p in report.problems]
    assert ("scope-refs", "run.serial[1].container.cmd[3]") in shown  # $(whoo), with the schema errors
    assert ("empty-block", "run.serial[2].serial") in shown
    # No finding inside a part the schema rejects (the call with the bad image), none for the names the
    # invalid parts still declare ($(bad)), and each problem once.
    assert not any(path.startswith("run.serial[0]") and check != "schema" for check, path in shown)
    assert ("scope-refs", "run.serial[1].container.cmd[2]") not in shown
    assert len(shown) == len(set((p.location, p.message) for p in report.problems))
    assert sum(check == "schema" for check, _ in shown) == 4  # reff (and the missing ref), strin, bogus
