"""The base install does its work without the extras' packages, and a feature that needs one says which.

Each check runs in a fresh interpreter where the extras' packages cannot be imported (`sys.modules[name] =
None` makes `import name` fail as a missing package does), as on a base install."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from iterable_sim import extras

EXTRAS_PACKAGES = ("pyarrow", "dask", "distributed", "ipywidgets", "itables", "anywidget", "fsspec", "s3fs",
                   "gcsfs", "voila")
BLOCK = "import sys\n" + "".join(f"sys.modules[{name!r}] = None\n" for name in EXTRAS_PACKAGES)


def run(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", BLOCK + code], capture_output=True, text=True, timeout=120,
                          cwd=cwd)


def test_mapping_sending_the_mock_and_the_plugin_need_no_extra(tmp_path):
    code = """
import iterable_sim as its
import iterable_sim.pytest_plugin
from iterable_sim.samples import sample_events
settings = its.Settings.from_rudder({"apiKey": "k", "trackAllPages": True})
results = its.map_events(sample_events(), settings, progress=False)
report = its.send(sample_events(), settings, progress=False)
mock = its.MockIterable()
with mock.serve() as url:
    pass
print(len(results.requests_frame()), report.summary()["delivered"], url.startswith("http://127.0.0.1:"))
"""
    done = run(code, tmp_path)
    assert done.returncode == 0, done.stderr
    requests, delivered, served = done.stdout.split()
    assert int(requests) > 0 and int(delivered) > 0 and served == "True"


def test_the_command_line_maps_and_sends_without_an_extra(tmp_path):
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps({"type": "track", "event": "Clicked", "userId": "u1"}) + "\n")
    for command in (["map", str(events), "--format", "jsonl"], ["send", str(events), "--api-key", "k"]):
        done = run(f"from iterable_sim.cli import main\nsys.exit(main({command!r}))", tmp_path)
        assert done.returncode == 0 and "Traceback" not in done.stderr, (command, done.stderr)


@pytest.mark.parametrize("arguments, feature, missing", [
    (["--out", "OUT"], "writing Parquet (map --out)", "pyarrow"),
    (["--out", "OUT", "--dask", "local:1"], "mapping on Dask (--dask)", "distributed"),
])
def test_a_feature_without_its_extra_is_one_line_and_exit_2(tmp_path, arguments, feature, missing):
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps({"type": "track", "event": "Clicked", "userId": "u1"}) + "\n")
    command = ["map", str(events), "--track-all-pages",
               *[str(tmp_path / "out") if a == "OUT" else a for a in arguments]]
    done = run(f"from iterable_sim.cli import main\nsys.exit(main({command!r}))", tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (f"iterable-sim map: {feature} needs iterable_sim's `archives` extra ({missing} is not "
                           f"installed): {extras.install_command('archives')}\n")
    assert not (tmp_path / "out").exists()  # said before anything is written


def test_the_widgets_without_their_extra_name_it(tmp_path):
    done = run("import iterable_sim.widgets", tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "iterable_sim.extras.MissingExtra: iterable_sim.widgets needs iterable_sim's `widgets` extra (ipywidgets is "
        f"not installed): {extras.install_command('widgets')}")


def test_the_install_command_is_a_checkouts_or_a_wheels(monkeypatch, tmp_path):
    assert extras.install_command("archives") == 'pip install -e ".[archives]"'  # this checkout
    monkeypatch.setattr(extras, "__file__", str(tmp_path / "site-packages" / "iterable_sim" / "extras.py"))
    assert extras.install_command("archives") == 'pip install "iterable_sim[archives]"'
