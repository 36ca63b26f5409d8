"""The README's Python examples and the shell commands of README.md and docs/*.md, run as written, so the
docs cannot drift from the code.

Each ```python block of README.md runs in order in one namespace, after the placeholders below are
replaced by sample data. A line whose comment shows a value (`expr  # (...)` or `# [...]`) is
checked too: each part of that comment between ellipses (…) must appear, in order, in the value's repr.

Each command of a ```sh, ```bash or ```console block runs in a temporary folder holding the files the docs
name (sample events, settings files, an archive, the project's cassettes, `.venv/bin` as this venv's), with
no Iterable key and every host but this machine behind a dead proxy, and must exit as documented; or it is
in NOT_RUN, with the reason.
"""
from __future__ import annotations

import ast
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

import pytest

from iterable_sim.samples import sample_events

README = Path(__file__).resolve().parent.parent / "README.md"

# The README's placeholders, and the sample data that stands in for them: the one place to change
# when the README gains a placeholder.
README_PLACEHOLDERS = {
    '"apiKey": "…"': '"apiKey": "readme-example-key"',
}
README_NAMES = {
    "my_events": sample_events,  # "a list of RudderStack events": the 24 sample events
}


def readme_files(folder: Path) -> dict[str, str]:
    """The files the README's examples read and write, made in `folder`: placeholder -> its path, quoted."""
    from tests.archive import kinds

    archive = folder / "archive"
    kinds.gateway_archive(archive)  # one file of rudder-server's archiver, at its object path
    return {'"workspaceConfig.json"': repr(str(Path(__file__).parent / "data" / "workspaceConfig.json")),
            '"rudder-saas/src-web/gw/"': repr(str(archive / "rudder-saas")),
            '"mapped/"': repr(str(folder / "mapped")), '"mapped/requests"': repr(str(folder / "mapped" / "requests")),
            '"mapped/refused"': repr(str(folder / "mapped" / "refused"))}


def python_blocks() -> list[tuple[int, str]]:
    """(line number, source) of each ```python block of the README."""
    text = README.read_text("utf-8")
    return [(text[:match.start()].count("\n") + 2, match[1])
            for match in re.finditer(r"^```python\n(.*?)^```", text, re.S | re.M)]


def with_sample_data(source: str, files: dict[str, str] | None = None) -> str:
    for placeholder, sample in {**README_PLACEHOLDERS, **(files or {})}.items():
        source = source.replace(placeholder, sample)
    return source


def shown_value(lines: list[str], end_line: int) -> str | None:
    """The value shown for the statement ending on `end_line`: its trailing comment, or the comment
    lines right below it, when that comment starts with ( or [; None when no value is shown."""
    _, trailing, comment = lines[end_line - 1].partition("  # ")
    if trailing and not comment.startswith(("(", "[")):
        return None
    parts = [comment] if trailing else []
    for line in lines[end_line:]:
        body = line.strip()
        if not body.startswith("#"):
            break
        body = body[1:].strip()
        if not parts and not body.startswith(("(", "[")):
            break
        parts.append(body)
    return " ".join(parts) or None


def assert_shows(value: object, shown: str, where: str) -> None:
    text = re.sub(r"\s+", " ", repr(value))
    position = 0
    for piece in (p.strip() for p in shown.split("…")):
        found = text.find(piece, position)
        assert found >= 0, f"{where}: the README shows {piece!r}, the code gives {text!r}"
        position = found + len(piece)


def test_the_readme_has_python_examples_and_every_placeholder_is_used():
    sources = "".join(source for _, source in python_blocks())
    assert len(python_blocks()) >= 2
    for placeholder in [*README_PLACEHOLDERS, *README_NAMES]:
        assert placeholder in sources, f"{placeholder!r} is no longer in the README: drop it from the placeholders"


def test_the_readme_python_examples_run_as_written(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    namespace: dict[str, object] = {name: make() for name, make in README_NAMES.items()}
    files = readme_files(tmp_path)
    for first_line, source in python_blocks():
        source = with_sample_data(source, files)
        lines = source.splitlines()
        for statement in ast.parse(source).body:
            where = f"README.md line {first_line + statement.lineno - 1}"
            code = ast.get_source_segment(source, statement)
            try:
                if isinstance(statement, ast.Expr):
                    value = eval(compile(ast.Expression(statement.value), where, "eval"), namespace)
                    shown = shown_value(lines, statement.end_lineno or statement.lineno)
                    if shown is not None:
                        assert_shows(value, shown, where)
                else:
                    exec(compile(ast.Module([statement], []), where, "exec"), namespace)
            except AssertionError:
                raise
            except Exception as err:  # noqa: BLE001 - the README line that failed, and why
                pytest.fail(f"{where}: {code!r} raised {type(err).__name__}: {err}")


# ------------------------------------------------------------------ the shell blocks of README.md and docs/*.md

DOCUMENTS = [README, *sorted((README.parent / "docs").glob("*.md"))]
SHELL_BLOCK = re.compile(r"^```(sh|bash|console)\n(.*?)^```", re.S | re.M)

# Commands not run here, each pattern (re.search on the command) with the reason. Every other command of a
# shell block runs, and every pattern here must match some command, so the list cannot outlive the docs.
NOT_RUN = {
    r"^(PIP_CONSTRAINT=\S* )?make ": "make targets install into .venv and run the suite, this test among them "
                                     "(.ci/run runs them)",
    r"^pip install ": "installs packages into the environment (.ci/installed installs the wheel and the sdist)",
    r"--to live": "sends to live Iterable",
    r"iterable-sim crosscheck ": "needs a running rudder-transformer (tests/test_crosscheck.py runs crosscheck "
                                 "against a stand-in)",
    r"bench/": "benchmarks, minutes each, on ../shared/bench's events (bench_archive.py's one line without them "
               "is tested below)",
    r"iterable-sim map 's3://": "needs an S3 bucket and its credentials (tests/archive/ read from a local S3 server)",
    r"^(pytest|git) ": "the cassette guide's commands, run in your repository on its tests/test_iterable.py "
                       "(tests/test_pytest_plugin.py covers recording, replaying and --iterable-accept)",
    r"-m pytest --nbval": "the notebooks under nbval: `make test` runs them",
}
# Commands whose documented outcome is exit status 1, and why.
EXIT_1 = {
    r"iterable-sim map iterable_sim/samples/events\.json": "the sample events include events RudderStack refuses",
    r"iterable-sim map events\.jsonl --settings": "the sample events include events RudderStack refuses",
    r"\| \.venv/bin/iterable-sim map --format jsonl": "the sample events include events RudderStack refuses",
    r"iterable-sim map 'archive/\*\.jsonl\.gz' --out": "the sample events include events RudderStack refuses",
    r"iterable-sim map archive/ --settings": "the sample events include events RudderStack refuses",
    r"iterable-sim send events\.jsonl": "the sample events include events Iterable rejects and ones that fail",
    r"iterable-sim cassettes diff (tests/cassettes )?--track-named-pages": "Track Named Pages changes the calls: "
                                                                         "drift, exit 1, as documented",
    r"iterable-sim cassettes diff --rudderstack v1\.132\.1": "v1.132.1's router cuts the events into message-type "
                                                          "runs: other calls, drift, exit 1",
}
DOCUMENTED_PORT = "8000"  # the port the docs serve the mock on; a free one stands in for it
CURL_FAILS = "curl --fail-with-body "  # curl exits 0 on an HTTP error answer: here an error answer fails the command
COMMAND_TIMEOUT = 60


class ShellCommand(NamedTuple):
    where: str  # file:line
    text: str


def shell_commands(document: Path) -> list[ShellCommand]:
    """The commands of every ```sh, ```bash and ```console block of `document`, one per line (continued by a
    trailing backslash); comment lines skipped, and in a console block only the `$ ` lines."""
    text = document.read_text("utf-8")
    commands: list[ShellCommand] = []
    for block in SHELL_BLOCK.finditer(text):
        first = text[:block.start(2)].count("\n") + 1
        pending: list[str] = []
        for number, line in enumerate(block[2].splitlines(), first):
            if block[1] == "console" and not pending:
                if not line.startswith("$ "):
                    continue
                line = line[2:]
            if not pending and (not line.strip() or line.lstrip().startswith("#")):
                continue
            pending.append(line.removesuffix("\\"))
            if not line.endswith("\\"):
                where = f"{document.relative_to(README.parent)}:{number - len(pending) + 1}"
                commands.append(ShellCommand(where, " ".join(pending).strip()))
                pending = []
    return commands


def matching(patterns: dict[str, str], command: str) -> str | None:
    return next((reason for pattern, reason in patterns.items() if re.search(pattern, command)), None)


def docs_workspace(folder: Path) -> None:
    """The files the docs' commands read, made in `folder`: the sample events under every name the docs give
    them, the settings files, an archive folder, the project's cassettes, and `.venv/bin` as this venv's."""
    import gzip
    import json
    import shutil

    data = Path(__file__).parent / "data"
    events = sample_events()
    lines = "".join(json.dumps(event) + "\n" for event in events)
    (folder / "events.json").write_text(json.dumps(events), "utf-8")
    (folder / "events.jsonl").write_text(lines, "utf-8")
    for name in ("events.jsonl.gz", "big.jsonl.gz", "archive/events.jsonl.gz"):
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).write_bytes(gzip.compress(lines.encode()))
    for name in ("destination-config.json", "destination.json", "config.json", "settings.json"):
        shutil.copy(data / "destination_export.json", folder / name)
    shutil.copy(data / "workspaceConfig.json", folder / "workspaceConfig.json")
    samples = folder / "iterable_sim" / "samples"
    samples.mkdir(parents=True)
    shutil.copy(README.parent / "iterable_sim" / "samples" / "events.json", samples / "events.json")
    shutil.copytree(README.parent / "cassettes", folder / "cassettes")
    shutil.copytree(README.parent / "cassettes", folder / "tests" / "cassettes")
    (folder / ".venv").mkdir()
    (folder / ".venv" / "bin").symlink_to(Path(sys.executable).parent)


def docs_environment() -> dict[str, str]:
    """This venv's tools first on PATH, this checkout's package, no Iterable key, and a dead proxy for every
    host but this machine: a command that tried to reach Iterable (or anything else) would fail, not reach it."""
    environment = {name: value for name, value in os.environ.items() if name != "ITERABLE_API_KEY"}
    bin_folder = str(Path(sys.executable).parent)
    return {**environment, "PATH": bin_folder + os.pathsep + environment.get("PATH", ""),
            "PYTHONPATH": str(README.parent), "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
            "ALL_PROXY": "http://127.0.0.1:9", "NO_PROXY": "127.0.0.1,localhost", "NO_COLOR": "1"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], where: str) -> None:
    deadline = time.monotonic() + COMMAND_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{where}: the background command exited with {process.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    pytest.fail(f"{where}: nothing listened on port {port} after {COMMAND_TIMEOUT} s")


def test_every_shell_command_of_the_docs_is_run_or_listed_as_not_run_with_a_reason():
    commands = [command for document in DOCUMENTS for command in shell_commands(document)]
    assert len(commands) >= 30  # the parser still finds the blocks
    for pattern in [*NOT_RUN, *EXIT_1]:
        assert any(re.search(pattern, command.text) for command in commands), \
            f"{pattern!r} matches no command of the docs any more: drop it"


@pytest.mark.parametrize("document", [d for d in DOCUMENTS if SHELL_BLOCK.search(d.read_text("utf-8"))],
                         ids=lambda d: d.name)
def test_the_shell_commands_of_the_docs_run_as_written(document: Path, tmp_path: Path) -> None:
    docs_workspace(tmp_path)
    environment = docs_environment()
    port = str(free_port())
    background: list[subprocess.Popen[bytes]] = []
    failures: list[str] = []
    try:
        for where, text in shell_commands(document):
            if matching(NOT_RUN, text) is not None:
                continue
            command = text.replace(f":{DOCUMENTED_PORT}", f":{port}").replace(f"--port {DOCUMENTED_PORT}",
                                                                              f"--port {port}")
            command = re.sub(r"^curl ", CURL_FAILS, command)
            if re.fullmatch(r"kill %1(\s+#.*)?", command):
                background.pop(0).terminate()
                continue
            if re.search(r"&(\s+#.*)?$", command):
                command = re.sub(r"\s*&(\s+#.*)?$", "", command)
                process = subprocess.Popen(["bash", "-c", f"exec {command}"], cwd=tmp_path, env=environment,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                background.append(process)
                wait_for_port(int(port), process, where)
                continue
            try:
                done = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=environment, capture_output=True,
                                      text=True, timeout=COMMAND_TIMEOUT, stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired:
                failures.append(f"{where}: {text}\n  did not finish in {COMMAND_TIMEOUT} s")
                continue
            expected = 1 if matching(EXIT_1, text) is not None else 0
            if done.returncode != expected or "Traceback (most recent call last)" in done.stderr:
                failures.append(f"{where}: {text}\n  exit {done.returncode} (documented: {expected})\n"
                                f"  {done.stderr[-1500:]}")
    finally:
        for process in background:
            process.terminate()
            process.wait(timeout=10)
    assert not failures, "\n".join(failures)


def test_bench_archive_without_its_input_says_so_in_one_line(tmp_path: Path) -> None:
    bench = README.parent / "bench" / "bench_archive.py"
    done = subprocess.run([sys.executable, str(bench), "10", "--source", str(tmp_path / "none.jsonl.gz")],
                          capture_output=True, text=True, timeout=COMMAND_TIMEOUT, cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "give --source FILE" in done.stderr, done.stderr
