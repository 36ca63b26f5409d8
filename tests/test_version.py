"""The RudderStack version iterable_sim matches is stated in one place and shown everywhere it is asked for."""
import re
import shutil
import subprocess
from importlib.metadata import version
from pathlib import Path

import pytest

import iterable_sim as its
from iterable_sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
ORACLE = ROOT.parent / "shared" / "rudderstack" / "rudderstack-iterable.cjs"


def test_the_package_names_the_rudder_transformer_commit_and_date():
    v = its.RUDDERSTACK_VERSION
    assert v.project == "rudder-transformer"
    assert re.fullmatch(r"[0-9a-f]{40}", v.commit)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", v.date)
    assert str(v) == f"rudder-transformer {v.commit[:8]} ({v.date})"
    assert its.__version__ == version("iterable_sim")


def test_version_flag_prints_both_versions(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert f"iterable-sim {its.__version__}" in text
    assert its.RUDDERSTACK_VERSION.commit in text and its.RUDDERSTACK_VERSION.date in text


def test_readme_states_the_same_version():
    readme = (ROOT / "README.md").read_text("utf-8")
    assert its.RUDDERSTACK_VERSION.commit[:8] in readme and its.RUDDERSTACK_VERSION.date in readme


@pytest.mark.skipif(shutil.which("node") is None or not ORACLE.exists(),
                    reason="needs node and ../shared/rudderstack (RudderStack's code, not part of the project)")
def test_the_oracle_runs_the_commit_we_name():
    out = subprocess.run(["node", str(ORACLE), "version"], capture_output=True, text=True, check=True).stdout
    assert f"commit {its.RUDDERSTACK_VERSION.commit}" in out
