"""The README's Python examples, run as written, so the README cannot drift from the code.

Each ```python block of README.md runs in order in one namespace, after the placeholders below are
replaced by sample data. A line whose comment shows a value (`expr  # (...)` or `# [...]`) is
checked too: each part of that comment between ellipses (…) must appear, in order, in the value's repr.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

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
