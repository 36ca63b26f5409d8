"""Install size of iterable_sim, base and per extra, each in a fresh venv (run by hand, prints figures).

    python bench/install_size.py                    # base, archives, storage, widgets, jupyter
    python bench/install_size.py base archives      # only these

A wheel is built from this checkout, then installed into a new venv per line ("base" is no extra); the size is
that of the venv's site-packages (pip, setuptools and wheel, which every venv holds, left out), with the count
of distributions installed. The issue "Installs lean" asks the base for at most 200 MB.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXTRAS = ("base", "archives", "storage", "widgets", "jupyter")
BOOTSTRAP = ("pip", "setuptools", "wheel", "_distutils_hack", "pkg_resources")


def size_of(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def site_packages(env: Path) -> Path:
    found = list(env.glob("lib/python3*/site-packages"))
    if len(found) != 1:
        sys.exit(f"cannot find the site-packages of {env}")
    return found[0]


def measure(wheel: Path, extra: str, work: Path) -> tuple[float, int]:
    env = work / f"venv-{extra}"
    venv.create(env, with_pip=True)
    target = str(wheel) if extra == "base" else f"{wheel}[{extra}]"
    subprocess.run([str(env / "bin" / "python"), "-m", "pip", "install", "--quiet", target], check=True)
    packages = site_packages(env)
    bootstrap = sum(size_of(p) if p.is_dir() else p.stat().st_size
                    for p in packages.iterdir() if p.name.split("-")[0] in BOOTSTRAP)
    distributions = [p for p in packages.glob("*.dist-info") if p.name.split("-")[0] not in BOOTSTRAP]
    return (size_of(packages) - bootstrap) / 2**20, len(distributions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # not `choices=`: with nargs="*", argparse checks an empty or default list against them as one value
    parser.add_argument("extras", nargs="*", metavar="EXTRA",
                        help=f"which to measure: {', '.join(EXTRAS)} (default: all)")
    args = parser.parse_args()
    unknown = sorted(set(args.extras) - set(EXTRAS))
    if unknown:
        parser.error(f"unknown extra {', '.join(unknown)}: choose from {', '.join(EXTRAS)}")
    extras = args.extras or EXTRAS
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(work), str(ROOT)],
                       check=True)
        wheel, = work.glob("iterable_sim-*.whl")
        for extra in extras:
            megabytes, count = measure(wheel, extra, work)
            print(f"{extra:>9}: {megabytes:6.0f} MiB in {count} distributions", flush=True)


if __name__ == "__main__":
    main()
