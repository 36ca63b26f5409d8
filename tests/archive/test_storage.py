"""Archives in object storage: s3:// sources (one object, a folder, a glob) read through fsspec from a local S3
server (moto), mapped in one process and on Dask, and a URL without the `storage` extra said in one line."""
from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from iterable_sim.archive import ArchiveError, Event, MalformedLine, archive_files, read_archive
from iterable_sim.archive.mapping import map_archive
from iterable_sim.archive.reader import ArchiveOrigin, storage_install_command
from iterable_sim.cli import main
from tests.archive import kinds
from tests.archive.kinds import ARCHIVE_FOLDER, ARCHIVE_NAME, SOURCE_ID, STORED, WORKSPACE_ID
from tests.archive.test_kinds import SETTINGS, requests_and_errors


def upload(local: Path, root: Path, bucket: str) -> str:
    """Put a file written under `root` at the same relative path in the bucket; its URL."""
    import fsspec

    url = f"s3://{bucket}/{local.relative_to(root).as_posix()}"
    with fsspec.open(url, "wb") as out:
        out.write(local.read_bytes())
    return url


@pytest.fixture
def s3_archive(s3_bucket, tmp_path):
    """Two hours of a source's gateway archive (the second with a bad line), and a plain JSONL file, in S3."""
    root = tmp_path / "local"
    first = kinds.gateway_archive(root)
    second = kinds.gateway_archive(root / "later", bad=True)
    moved = root / ARCHIVE_FOLDER.replace("/10/", "/9/") / ARCHIVE_NAME.replace("0b6f", "1c7e")
    moved.parent.mkdir(parents=True)
    second.rename(moved)
    plain = kinds.plain_jsonl(root / "plain")
    urls = [upload(path, root, s3_bucket) for path in (first, moved, plain)]
    return root, urls


def test_an_s3_archive_is_read_by_object_folder_and_glob(s3_archive, s3_bucket):
    _, (ten, nine, plain) = s3_archive
    assert archive_files(f"s3://{s3_bucket}/rudder-saas/") == [nine, ten]  # hour 9 before 10
    assert archive_files(f"s3://{s3_bucket}/") == [plain, nine, ten]
    assert archive_files(f"s3://{s3_bucket}/*/*/{SOURCE_ID}/gw/2026-01-05/1?/*/*.json.gz") == [ten]
    assert archive_files(ten) == [ten]
    records = list(read_archive(ten))
    assert [r.event for r in records] == STORED and all(r.through_gateway for r in records)
    assert records[0].origin == ArchiveOrigin(source_id=SOURCE_ID, date="2026-01-05", hour=10, instance_id="1",
                                              workspace_id=WORKSPACE_ID, user_id="<<>>a-1<<>>u-1",
                                              created_at=kinds.CREATED_AT)
    later = list(read_archive(nine))
    assert [type(r) for r in later].count(MalformedLine) == 1 and [r.event for r in later if isinstance(r, Event)] \
        == STORED and later[0].origin.hour == 9
    assert requests_and_errors(r for r in read_archive(f"s3://{s3_bucket}/rudder-saas/")
                               if isinstance(r, Event)) == requests_and_errors(
        Event("stored", line, event, through_gateway=True) for line, event in enumerate(STORED * 2, 1))
    with pytest.raises(ArchiveError, match="no such events file"):
        archive_files(f"s3://{s3_bucket}/nothing-here.jsonl")
    with pytest.raises(ArchiveError, match="no file matches"):
        archive_files(f"s3://{s3_bucket}/*.parquet")


def test_an_s3_archive_maps_as_the_same_files_on_disk(s3_archive, s3_bucket, tmp_path):
    root, urls = s3_archive
    remote = map_archive(f"s3://{s3_bucket}/", SETTINGS, tmp_path / "remote", progress=False,
                         received_at=kinds.RECEIVED_AT)
    local = map_archive(root, SETTINGS, tmp_path / "local-out", progress=False, received_at=kinds.RECEIVED_AT)
    assert remote == local and (remote["events"], remote["malformed_lines"]) == (15, 1)
    for kind in ("requests", "refused"):
        mapped = pd.read_parquet(tmp_path / "remote" / kind)
        assert mapped.source.astype(str).drop_duplicates().tolist() == [urls[2], urls[1], urls[0]]
        on_disk = pd.read_parquet(tmp_path / "local-out" / kind)
        assert mapped.drop(columns="source").equals(on_disk.drop(columns="source"))


def test_an_s3_archive_maps_on_dask_as_in_one_process(s3_archive, s3_bucket, tmp_path):
    pytest.importorskip("distributed")
    from iterable_sim.archive.on_dask import map_archive_dask

    source = f"s3://{s3_bucket}/"
    single = map_archive(source, SETTINGS, tmp_path / "single", progress=False, received_at=kinds.RECEIVED_AT)
    spread = map_archive_dask(source, SETTINGS, tmp_path / "dask", cluster="local:2", progress=False,
                              received_at=kinds.RECEIVED_AT)
    assert spread == single and spread["files"] == 3
    for kind in ("requests", "refused"):
        assert pd.read_parquet(tmp_path / "dask" / kind).equals(pd.read_parquet(tmp_path / "single" / kind))
    hours = pd.read_parquet(tmp_path / "dask" / "requests").dropna(subset=["archive_hour"])
    assert hours.groupby("archive_hour").size().to_dict() == {9: 4, 10: 4}


def test_the_cli_maps_an_s3_archive(s3_archive, s3_bucket, tmp_path):
    out = io.StringIO()
    code = main(["map", f"s3://{s3_bucket}/rudder-saas/", "--api-key", "k", "--track-all-pages",
                 "--out", str(tmp_path / "o"), "--no-progress"], out)
    assert code == 1 and out.getvalue().startswith(
        "10 events from 2 file(s): 8 requests (commerce/trackPurchase 2, events/track 4, users/update 2); "
        "0 refused, 2 filtered, 1 malformed line(s).")
    assert json.loads((tmp_path / "o" / "summary.json").read_text())["malformed_lines"] == 1


def test_a_url_without_the_storage_extra_is_one_line_naming_it(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "fsspec", None)  # as if fsspec were not installed
    with pytest.raises(ArchiveError) as caught:
        archive_files("s3://bucket/rudder-saas/")
    message = str(caught.value)
    assert message == ("s3://bucket/rudder-saas/: reading s3:// URLs needs iterable_sim's `storage` extra "
                       f"(fsspec is not installed): {storage_install_command()}")
    assert storage_install_command() == 'pip install -e ".[storage]"'  # this is a checkout
    assert main(["map", "gs://bucket/x/*.gz", "--track-all-pages", "--out", str(tmp_path / "o")], io.StringIO()) == 2
    assert capsys.readouterr().err == ("iterable-sim map: gs://bucket/x/*.gz: reading gs:// URLs needs iterable_sim's "
                                       f"`storage` extra (fsspec is not installed): {storage_install_command()}\n")


def test_the_install_command_is_a_checkouts_or_an_installed_packages(monkeypatch, tmp_path):
    from iterable_sim import extras

    assert storage_install_command() == 'pip install -e ".[storage]"'  # this checkout
    monkeypatch.setattr(extras, "__file__", str(tmp_path / "site-packages" / "iterable_sim" / "extras.py"))
    assert storage_install_command() == 'pip install "iterable_sim[storage]"'


def test_a_scheme_fsspec_does_not_know_is_one_line():
    with pytest.raises(ArchiveError, match="^nosuch://x/y: .*nosuch"):
        archive_files("nosuch://x/y")


def test_fsspec_without_s3fs_names_the_extra_too(tmp_path):
    """fsspec comes with Dask, s3fs only with the extra: the usual case of a URL without it."""
    script = ("import sys; sys.modules['s3fs'] = None\n"
              "from iterable_sim.cli import main\n"
              f"sys.exit(main(['map', 's3://bucket/rudder-saas/', '--track-all-pages', '--out', {str(tmp_path)!r}]))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("iterable-sim map: s3://bucket/rudder-saas/: reading s3:// URLs needs "
                                  "iterable_sim's `storage` extra (") and done.stderr.count("\n") == 1
    assert done.stderr.endswith(f"): {storage_install_command()}\n")
