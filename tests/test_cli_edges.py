"""The command line at its edges: Ctrl-C, empty input, outputs that cannot be written, unreachable targets,
large sends. Each ends in one line on stderr and a documented exit code, never a traceback."""
import functools
import gzip
import importlib.abc
import io
import json
import os
import signal
import subprocess
import sys
import zlib
import socket
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import httpx
import pandas as pd
import pytest

from iterable_sim.cli import main
from iterable_sim.cli.exits import EXIT_INTERRUPTED
from iterable_sim.cli.parser import EXIT_CODES

WORKTREE = Path(__file__).resolve().parents[1]


def cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    out = io.StringIO()
    code = main(argv, out)
    return code, out.getvalue(), capsys.readouterr().err


def events_file(tmp_path: Path, count: int, name: str = "events.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps({"type": "track", "event": f"e{i}", "userId": f"u{i}"}) + "\n"
                            for i in range(count)))
    return path


@contextmanager
def socket_free() -> Iterator[int]:
    """A port nothing listens on (once the block ends)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def interrupt(*_: object, **__: object) -> None:
    raise KeyboardInterrupt


def test_exit_code_130_is_documented():
    assert f"{EXIT_INTERRUPTED}  interrupted (Ctrl-C)" in EXIT_CODES


@pytest.mark.parametrize("command", ["send", "map"])
def test_ctrl_c_while_reading_says_so_in_one_line(command, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("iterable_sim.cli.commands.read_archive", interrupt)
    code, out, err = cli([command, str(events_file(tmp_path, 3)), "--no-progress"], capsys)
    assert code == EXIT_INTERRUPTED
    expected = "nothing was sent" if command == "send" else "stopped before its outcome was known"
    assert err == f"iterable-sim {command}: interrupted (Ctrl-C): {expected}\n"
    assert out == ""


def test_ctrl_c_before_a_send_begins_sends_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("iterable_sim.cli.commands.send", interrupt)  # while mapping, before any call
    code, _, err = cli(["send", str(events_file(tmp_path, 3)), "--no-progress"], capsys)
    assert code == EXIT_INTERRUPTED
    assert err.endswith("\niterable-sim send: interrupted (Ctrl-C): nothing was sent\n")  # after the warnings
    assert "Traceback" not in err


def test_ctrl_c_stops_serve_with_one_line_and_exit_0():
    with socket_free() as port:
        pass
    server = subprocess.Popen([sys.executable, "-m", "iterable_sim.cli", "serve", "--port", str(port),
                               "--log-level", "warning"],
                              env={**os.environ, "PYTHONPATH": str(WORKTREE)}, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        assert "Ctrl-C stops it" in server.stdout.readline()  # the banner: listening from here on
        server.send_signal(signal.SIGINT)
        _, err = server.communicate(timeout=30)
    finally:
        server.kill()
    assert "Traceback" not in err
    assert err.endswith("iterable-sim serve: stopped\n")
    assert server.returncode == 0


@pytest.mark.parametrize("dask", [[], ["--dask", "local:1"]], ids=["streamed", "dask"])
@pytest.mark.parametrize("out, says", [
    ("a_file", "is a file, not a directory"),
    ("/proc/iterable_sim", "cannot be written: No such file or directory"),
    ("a_file/below", "cannot be written: Not a directory"),
], ids=["file", "unwritable", "below a file"])
def test_map_out_that_cannot_be_written_is_one_line_and_exit_2(out, says, dask, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("a_file").write_text("kept\n")
    code, _, err = cli(["map", str(events_file(tmp_path, 2)), "--out", out, "--no-progress", *dask], capsys)
    assert code == 2
    assert err.splitlines()[-1] == f"iterable-sim map: --out {out} {says}" and "Traceback" not in err
    assert Path("a_file").read_text() == "kept\n"


@pytest.mark.parametrize("content", ["", "\n\n  \n"], ids=["empty", "blank lines"])
@pytest.mark.parametrize("command", [
    ["map"], ["map", "--format", "jsonl"], ["map", "--out", "mapped"], ["send"], ["send", "--format", "jsonl"],
    ["crosscheck", "--transformer", "http://127.0.0.1:9"], ["upgrade", "--from", "v1.84.0", "--to", "latest"],
], ids=lambda argv: " ".join(argv))
def test_empty_input_is_one_line_and_exit_2(command, content, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("empty.jsonl").write_text(content)
    code, out, err = cli([command[0], "empty.jsonl", *command[1:], "--no-progress"], capsys)
    assert code == 2
    assert err.splitlines()[-1] == (f"iterable-sim {command[0]}: empty.jsonl holds no events (empty, or blank "
                                    f"lines only): nothing to do")
    assert out == ""


def test_recording_empty_input_is_one_line_exit_2_and_no_cassette(tmp_path, capsys):
    (tmp_path / "empty.jsonl").write_text("\n")
    cassette = tmp_path / "empty.yaml"
    code, out, err = cli(["record", "--events", str(tmp_path / "empty.jsonl"), str(cassette)], capsys)
    assert code == 2
    assert err == (f"iterable-sim record: {tmp_path / 'empty.jsonl'} holds no events (empty, or blank lines only): "
                   f"no cassette recorded\n")
    assert not cassette.exists() and out == ""


def test_a_bad_line_is_named_by_its_line_and_column_only(tmp_path, capsys):
    path = events_file(tmp_path, 1)
    with path.open("a") as file:
        file.write('{"type": "track", "event": "b"\n')  # cut short: orjson says "line 2 column 1" of this line
    code, _, err = cli(["map", str(path), "--api-key", "k", "--no-progress"], capsys)
    assert code == 1
    assert f"warning: {path}, line 2: not JSON (unexpected end of data at column 32)\n" in err
    assert "line 1 column" not in err and "line 2 column" not in err


@pytest.mark.parametrize("command", [["map"], ["map", "--format", "jsonl"], ["send", "--api-key", "k"]])
def test_a_truncated_gzip_names_the_last_line_read(command, tmp_path, capsys):
    lines = "".join(json.dumps({"type": "track", "event": f"e{i}", "userId": f"u{i}", "properties": {"n": i * 7919}})
                    + "\n" for i in range(3000)).encode()
    packed = gzip.compress(lines)
    path = tmp_path / "events.jsonl.gz"
    path.write_bytes(packed[: len(packed) // 2])
    read = last_whole_line(packed[: len(packed) // 2])
    code, _, err = cli([command[0], str(path), *command[1:], "--no-progress"], capsys)
    assert code == 1
    assert (f"warning: {path}: the file cannot be read after line {read:,}: Compressed file ended before the "
            f"end-of-stream marker was reached\n") in err
    assert "line 0" not in err and "Traceback" not in err


def last_whole_line(truncated_gzip: bytes) -> int:
    """How many whole lines a truncated gzip gives before it ends."""
    unpacked = zlib.decompressobj(wbits=31).decompress(truncated_gzip)
    return unpacked.count(b"\n")


def test_a_send_to_nothing_listening_fails_fast_and_every_event_says_why(tmp_path, monkeypatch, capsys):
    from iterable_sim.send import client

    monkeypatch.setattr(client, "RetryPolicy", functools.partial(client.RetryPolicy, backoff=0.0))  # no waits
    attempts = []
    connect = httpx.HTTPTransport.handle_request
    monkeypatch.setattr(httpx.HTTPTransport, "handle_request",
                        lambda self, request: attempts.append(request.url.path) or connect(self, request))
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(event) + "\n" for event in [
        {"type": "identify", "userId": "u1", "traits": {"email": "a@example.com"}},
        {"type": "track", "event": "a", "userId": "u1"},
        {"type": "track", "event": "b", "userId": "u2"}]))
    with socket_free() as port:
        pass
    failed_out = tmp_path / "failed.jsonl"
    code, out, err = cli(["send", str(events), "--to", f"http://127.0.0.1:{port}", "--api-key", "k",
                          "--failed-out", str(failed_out), "--no-progress"], capsys)
    assert code == 1
    assert attempts == ["/api/users/bulkUpdate"] * 5  # the first call's attempts, then no other call is tried
    assert out.count("Connection refused") >= 3 and "3 failed" in out
    assert out.count("not tried: an earlier call's every attempt was refused") >= 2  # the track events and their call
    assert len(failed_out.read_text().splitlines()) == 3
    assert "Traceback" not in err


@pytest.mark.parametrize("output", ["table", "jsonl"])
def test_a_send_every_call_of_which_gets_401_says_so_in_one_line(output, tmp_path, capsys):
    code, out, err = cli(["send", str(events_file(tmp_path, 3)), "--format", output, "--no-progress"], capsys)
    assert code == 1  # no --api-key: the mock answers 401 Invalid API key to each call
    assert err.endswith("\niterable-sim send: every call was refused with 401: is the key right?\n")
    if output == "table":
        assert out.startswith("<SendReport to the in-process mock Iterable") and "; every call was refused with 401: is the key " \
                                                                  "right?>" in out.splitlines()[0]


def test_a_send_with_a_right_key_says_nothing_of_401(tmp_path, capsys):
    code, out, err = cli(["send", str(events_file(tmp_path, 3)), "--api-key", "k", "--no-progress"], capsys)
    assert code == 0 and "401" not in err + out.splitlines()[0]


def interrupted_after_the_first_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C as the second call of a send is about to go: the first is answered, the rest never sent."""
    from iterable_sim.mapping.request import Request
    from iterable_sim.send import client

    deliver = client.IterableClient.send
    calls: list[Request] = []

    def send_one(self: client.IterableClient, request: Request) -> client.Delivery:
        if calls:
            raise KeyboardInterrupt
        calls.append(request)
        return deliver(self, request)

    monkeypatch.setattr(client.IterableClient, "send", send_one)


TWO_CALLS = [{"type": "identify", "userId": "u1", "traits": {"email": "a@example.com"}},
             {"type": "track", "event": "a", "userId": "u1"}]


def test_statuses_print_as_integers_when_some_are_missing(tmp_path, monkeypatch, capsys):
    interrupted_after_the_first_call(monkeypatch)
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(event) + "\n" for event in TWO_CALLS))
    code, out, _ = cli(["send", str(events), "--api-key", "k", "--no-progress"], capsys)
    assert code == 1 and "interrupted>" in out
    assert " 200 " in out and "200.0" not in out


def test_send_frames_keep_statuses_integers_beside_missing_ones(monkeypatch):
    from iterable_sim.archive.sending import send_stream
    from iterable_sim.mapping.settings import Settings
    from iterable_sim.send import send

    settings = Settings.from_rudder({"apiKey": "k"})
    interrupted_after_the_first_call(monkeypatch)
    report = send(TWO_CALLS, settings, progress=False)
    assert report.frame()["status"].dtype == "Int64" and report.frame()["status"].tolist() == [200, pd.NA]
    assert report.requests_frame()["status"].dtype == "Int64"
    stream = send_stream(TWO_CALLS, settings, progress=False, to=report.mock)
    assert stream.frame()["status"].dtype == "Int64" and stream.frame()["line"].dtype == "Int64"


@pytest.mark.parametrize("rows, shown", [([], 50), (["--rows", "5"], 5), (["--rows", "0"], 0), (["--rows", "all"], 60)])
def test_a_large_send_prints_its_summary_then_a_bounded_head_of_rows(rows, shown, tmp_path, capsys):
    code, out, _ = cli(["send", str(events_file(tmp_path, 60)), "--api-key", "k", "--no-progress", *rows], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("<SendReport to the in-process mock Iterable: 60 sent, 60 delivered")
    events_table = out.split("What became of each event:\n")[1].split("\n\n")[0].splitlines()
    header = 1 if shown else 0
    assert len(events_table) == header + shown + (shown < 60)  # the header, the rows, the count of the rest
    if shown < 60:
        assert events_table[-1] == (f"  … and {60 - shown} more rows (--rows all shows every row; --format jsonl "
                                    f"gives one line per event)")


def test_a_small_send_prints_every_row(tmp_path, capsys):
    _, out, _ = cli(["send", str(events_file(tmp_path, 50)), "--api-key", "k", "--no-progress"], capsys)
    assert "more rows" not in out and len(out.split("What became of each event:\n")[1].split("\n\n")[0].splitlines()) == 51


@pytest.mark.parametrize("output", ["table", "jsonl"])
@pytest.mark.parametrize("failed_out, says", [
    ("/proc/iterable_sim/failed.jsonl", "cannot be written: No such file or directory"),
    (".", "cannot be written: Is a directory"),
], ids=["unwritable", "a directory"])
def test_a_failed_out_that_cannot_be_written_is_one_line_before_anything_is_sent(failed_out, says, output, tmp_path,
                                                                                monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(["send", str(events_file(tmp_path, 2)), "--failed-out", failed_out, "--format", output,
                          "--no-progress"], capsys)
    assert code == 2 and out == ""
    assert err.splitlines()[-1] == f"iterable-sim send: --failed-out {failed_out} {says}"


class InterruptedImport(importlib.abc.MetaPathFinder):
    """Ctrl-C while a module loads: finding `name` raises KeyboardInterrupt."""

    def __init__(self, name: str) -> None:
        self.name = name

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == self.name:
            raise KeyboardInterrupt
        return None


@pytest.mark.parametrize("module, said", [
    ("iterable_sim.cli.parser", "iterable-sim: interrupted (Ctrl-C) while starting: nothing was done\n"),
    ("iterable_sim.cli.commands", "iterable-sim send: interrupted (Ctrl-C): nothing was sent\n"),
])
def test_ctrl_c_while_the_command_loads_is_one_line_and_130(monkeypatch, capsys, module, said):
    from iterable_sim import cli as package

    monkeypatch.delitem(sys.modules, module, raising=False)
    monkeypatch.delattr(package, module.rsplit(".", 1)[1], raising=False)  # `from iterable_sim.cli import x` reads it
    monkeypatch.setattr(sys, "meta_path", [InterruptedImport(module), *sys.meta_path])
    assert package.main(["send", "--no-progress"]) == EXIT_INTERRUPTED
    assert capsys.readouterr().err == said
