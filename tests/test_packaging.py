"""Installing and starting the project: pyproject's metadata as today's pip reads it, the Makefile's targets."""
from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_the_license_is_an_spdx_string_with_a_setuptools_that_reads_it():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    assert pyproject["project"]["license"] == "MIT"  # the table form is deprecated: pip install warned
    assert "setuptools>=77" in pyproject["build-system"]["requires"]  # 77 is the first to read the string form


def test_the_license_file_is_the_license_pyproject_names():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    assert pyproject["project"]["license-files"] == ["LICENSE"]  # in the wheel's dist-info and the sdist
    text = (ROOT / "LICENSE").read_text("utf-8")
    assert text.startswith("MIT License\n") and "Copyright (c) 2026 the iterable_sim authors" in text


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_jupyter_lets_root_start_jupyterlab():
    dry_run = subprocess.run(["make", "-n", "jupyter"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    command = next(line for line in dry_run.splitlines() if "jupyter lab" in line)
    assert ("--allow-root" in command) == (os.geteuid() == 0)


def test_the_tested_versions_pin_every_dependency_and_not_the_package():
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    lines = [line for line in (ROOT / "constraints" / "tested.txt").read_text("utf-8").splitlines()
             if line and not line.startswith("#")]
    pinned = {canonicalize_name(name): version for name, _, version in (line.partition("==") for line in lines)}
    assert all(version for version in pinned.values()), "every line of constraints/tested.txt is name==version"
    assert "iterable-sim" not in pinned
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    for text in project["dependencies"] + project["optional-dependencies"]["test"]:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{name} is not in constraints/tested.txt: pip freeze the venv the suite passed in"
        assert requirement.specifier.contains(pinned[name]), f"{name}=={pinned[name]} is outside {text!r}"
