"""The playground's server as a hostile or careless client meets it: ``nnmath playground``
as a real process on a free loopback port, driven by real HTTP and WebSocket clients
(and raw sockets where a client would tidy the request up).

Every request here is refused with a 4xx and a one-line message, or answered over the
socket, and the server's stderr stays empty: no traceback for any of them.
"""

from __future__ import annotations

import contextlib
import json
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx2
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from nnmath.playground.datasets import MAX_UPLOAD_COLUMNS
from nnmath.playground.server import MAX_JSON_BYTES, OwnHost

TIMEOUT = 120
EVIL = "evil.example"


class Playground:
    """``nnmath playground`` as a process: its port, and its stderr as written so far."""

    def __init__(self, *options: str):
        self.err = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nnmath", "playground", "--port", "0", "--no-browser", *options],
            stdout=subprocess.PIPE,
            stderr=self.err,
            text=True,
        )
        first = self.proc.stdout.readline()
        m = re.search(r"^nnmath playground: http://\S+:(\d+)/$", first)
        assert m, (first, self.stderr())
        self.port = int(m.group(1))
        self.url = f"http://127.0.0.1:{self.port}"
        self.interrupted = False

    def stderr(self) -> str:
        self.err.flush()
        self.err.seek(0)
        return self.err.read()

    def settle(self) -> None:
        """Make one more request, so that what the server did before is on stderr."""
        assert httpx2.get(f"{self.url}/api/sessions/none", timeout=TIMEOUT).status_code == 404

    def new_session(self) -> str:
        r = httpx2.post(f"{self.url}/api/sessions", json={}, timeout=TIMEOUT)
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def peak_memory(self) -> int:
        """The server's peak resident memory, in bytes (Linux's VmHWM)."""
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(r"^VmHWM:\s+(\d+) kB$", status, re.M).group(1)) * 1024

    def interrupt(self) -> None:
        """Press Ctrl-C (once)."""
        if not self.interrupted:
            self.interrupted = True
            self.proc.send_signal(signal.SIGINT)

    def stop(self) -> tuple[str, str]:
        """Ctrl-C, and wait until the server has stopped; return (stdout, stderr)."""
        try:
            if self.proc.poll() is None:
                self.interrupt()
            out, _ = self.proc.communicate(timeout=TIMEOUT)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.communicate()
        err = self.stderr()
        self.err.close()
        return out, err


@pytest.fixture(scope="module")
def playground():
    server = Playground()
    try:
        yield server
    finally:
        out, err = server.stop()
        assert err == "", err


@pytest.fixture
def quiet(playground):
    """The shared server, checked to have written nothing on stderr during the test."""
    before = len(playground.stderr())
    yield playground
    playground.settle()
    assert playground.stderr()[before:] == ""


def raw(port: int, head: str, body=(), read: bool = True) -> tuple[int, dict, bytes]:
    """Send a request as written (head, then the body's chunks, from a thread) and read
    the response until the server closes or answers in full: (status, headers, body).

    The body is sent while the response is read, as a client that streams does: a
    server that answers early and closes is read all the same.
    """
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)

    def send():
        with contextlib.suppress(OSError):
            sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n")
            for chunk in body:
                sock.sendall(chunk)

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    data = b""
    with sock:
        while read:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
            head_end = data.find(b"\r\n\r\n")
            if head_end >= 0:
                m = re.search(rb"\r\ncontent-length: (\d+)", data[:head_end], re.I)
                if m and len(data) >= head_end + 4 + int(m.group(1)):
                    break
        sender.join(TIMEOUT)
    if not read:
        return 0, {}, b""
    status_line, _, rest = data.partition(b"\r\n")
    header_text, _, content = rest.partition(b"\r\n\r\n")
    headers = dict(
        (k.strip().lower(), v.strip())
        for k, _, v in (
            line.decode("latin-1").partition(":") for line in header_text.split(b"\r\n")
        )
    )
    return int(status_line.split()[1]), headers, content


def one_line_error(content: bytes) -> str:
    message = json.loads(content)["error"]
    assert "\n" not in message
    return message


# ---------------------------------------------------------------------------- Host
@pytest.mark.parametrize("host", [f"{EVIL}:{{port}}", "127.0.0.1:{other}", "localhost"])
def test_a_request_for_another_host_is_refused(quiet, host):
    # A page whose own name points at 127.0.0.1 (DNS rebinding) sends its name as the
    # Host and as the Origin: they match each other, but not the playground's address.
    port = quiet.port
    host = host.format(port=port, other=port + 1 if port < 65535 else port - 1)
    headers = {"Host": host, "Origin": f"http://{host}"}
    r = httpx2.post(f"{quiet.url}/api/sessions", json={}, headers=headers, timeout=TIMEOUT)
    assert r.status_code == 421
    message = r.json()["error"]
    assert message == (
        f"this playground answers only to its own address (http://127.0.0.1:{port}/), "
        f"not to {host!r}: pages of other sites cannot drive it"
    )
    # nor is the page itself served to it
    assert httpx2.get(f"{quiet.url}/", headers=headers, timeout=TIMEOUT).status_code == 421


def test_a_websocket_upgrade_for_another_host_is_refused(quiet):
    sid = quiet.new_session()
    host = f"{EVIL}:{quiet.port}"
    status, _, content = raw(
        quiet.port,
        f"GET /api/sessions/{sid}/stream HTTP/1.1\nHost: {host}\nOrigin: http://{host}\n"
        "Upgrade: websocket\nConnection: Upgrade\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nSec-WebSocket-Version: 13\n",
    )
    assert status == 421  # not 101 Switching Protocols
    assert "answers only to its own address" in one_line_error(content)


def test_a_request_without_a_host_is_refused(quiet):
    status, _, content = raw(quiet.port, "GET / HTTP/1.0\n")
    assert status == 400
    assert one_line_error(content) == (
        f"a request without a Host header is refused; open http://127.0.0.1:{quiet.port}/"
    )


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost"])
def test_the_playgrounds_own_address_is_served(quiet, name):
    url = f"http://{name}:{quiet.port}"
    page = httpx2.get(f"{url}/", timeout=TIMEOUT)
    assert page.status_code == 200
    assert "nnmath playground" in page.text
    r = httpx2.post(f"{url}/api/sessions", json={"hidden": [2]}, timeout=TIMEOUT)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    with connect(f"ws://{name}:{quiet.port}/api/sessions/{sid}/stream") as ws:
        assert json.loads(ws.recv(timeout=TIMEOUT))["type"] == "config"
        ws.send("alive")
        assert json.loads(ws.recv(timeout=TIMEOUT))["type"] == "frame"


def test_a_websocket_for_another_host_is_refused_by_a_real_client(quiet):
    # As a rebinding page's browser does: the URL names the page's own site, and the
    # connection goes to 127.0.0.1.
    sid = quiet.new_session()
    sock = socket.create_connection(("127.0.0.1", quiet.port), timeout=TIMEOUT)
    with pytest.raises(InvalidStatus) as exc:
        with connect(
            f"ws://{EVIL}:{quiet.port}/api/sessions/{sid}/stream",
            sock=sock,
            origin=f"http://{EVIL}:{quiet.port}",
            open_timeout=TIMEOUT,
        ):
            pass
    assert exc.value.response.status_code == 421
    assert "answers only to its own address" in one_line_error(exc.value.response.body)


@pytest.mark.parametrize(
    ("listen", "host", "allowed"),
    [
        ("127.0.0.1", "127.0.0.1:8000", True),
        ("127.0.0.1", "LOCALHOST:8000", True),
        ("127.0.0.1", "[::1]:8000", True),
        ("127.0.0.1", "127.0.0.1:8001", False),
        ("127.0.0.1", "127.0.0.1", False),  # port 80
        ("127.0.0.1", "localhost.evil.example:8000", False),
        ("127.0.0.1", "127.0.0.1.nip.io:8000", False),
        ("127.0.0.1", "192.168.1.5:8000", False),
        ("127.0.0.1", "[::1:8000", False),
        ("127.0.0.1", "127.0.0.1:8000:8000", False),
        ("127.0.0.1", "", False),
        ("192.168.1.5", "192.168.1.5:8000", True),
        ("192.168.1.5", "localhost:8000", True),
        ("0.0.0.0", "192.168.1.5:8000", True),  # an address is no name to rebind
        ("0.0.0.0", "[fe80::1]:8000", True),
        ("0.0.0.0", "evil.example:8000", False),
        ("::", "10.0.0.7:8000", True),
        ("::", "10.0.0.7:9000", False),
    ],
)
def test_the_hosts_each_address_answers_to(listen, host, allowed):
    assert OwnHost(None, listen, 8000).allowed(host) is allowed


# ---------------------------------------------------------------------------- bodies
def test_a_json_body_over_1_mb_is_refused_before_it_is_read(quiet):
    before = quiet.peak_memory()
    size = 256 * 2**20
    chunk = b" " * 2**20
    status, _, content = raw(
        quiet.port,
        f"POST /api/sessions HTTP/1.1\nHost: 127.0.0.1:{quiet.port}\n"
        f"Content-Type: application/json\nContent-Length: {size}\n",
        (chunk for _ in range(size // len(chunk))),
    )
    assert status == 413
    assert one_line_error(content) == (
        "the request body is too big: the playground takes JSON bodies of at most 1,000,000 bytes"
    )
    # a server that read the body first would hold its 256 MB at least once
    assert quiet.peak_memory() - before < 64 * 2**20


def test_a_chunked_json_body_is_cut_at_1_mb(quiet):
    sid = quiet.new_session()
    piece = b"[" + b"0," * 50_000 + b"0]"
    chunks = [b"%x\r\n%s\r\n" % (len(piece), piece)] * 20 + [b"0\r\n\r\n"]
    status, _, content = raw(
        quiet.port,
        f"POST /api/sessions/{sid}/settings HTTP/1.1\nHost: 127.0.0.1:{quiet.port}\n"
        "Content-Type: application/json\nTransfer-Encoding: chunked\n",
        chunks,
    )
    assert status == 413
    assert "JSON bodies of at most 1,000,000 bytes" in one_line_error(content)


def test_a_json_body_just_under_1_mb_is_read(quiet):
    body = b'{"seed": 7}'.ljust(MAX_JSON_BYTES, b" ")
    r = httpx2.post(
        f"{quiet.url}/api/sessions",
        content=body,
        headers={"content-type": "application/json"},
        timeout=TIMEOUT,
    )
    assert r.status_code == 201, r.text
    assert r.json()["settings"]["seed"] == 7


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            b'{"seed": ' + b"9" * 5000 + b"}",
            "the request body holds an integer of 5,000 digits; settings are numbers of at "
            "most 300 digits",
        ),
        (
            b'{"hidden": [-' + b"1" * 4301 + b"]}",
            "the request body holds an integer of 4,301 digits; settings are numbers of at "
            "most 300 digits",
        ),
        (
            b"[" * 100_000 + b"]" * 100_000,
            "the request body is nested more than 16 levels deep; settings are an object "
            "of names and values",
        ),
        (
            b'{"hidden": ' + b"[" * 500 + b"]" * 500 + b"}",
            "the request body is nested more than 16 levels deep; settings are an object "
            "of names and values",
        ),
    ],
    ids=["5000-digits", "4301-digits", "100000-deep", "500-deep"],
)
@pytest.mark.parametrize("path", ["/api/sessions", "/api/sessions/{sid}/settings"])
def test_a_huge_integer_or_deep_nesting_is_a_400(quiet, body, message, path):
    sid = quiet.new_session()
    r = httpx2.post(
        quiet.url + path.format(sid=sid),
        content=body,
        headers={"content-type": "application/json"},
        timeout=TIMEOUT,
    )
    assert r.status_code == 400
    assert r.json() == {"error": message, "setting": "settings"}


def test_a_300_digit_integer_is_checked_as_a_setting(quiet):
    r = httpx2.post(
        f"{quiet.url}/api/sessions",
        content=b'{"seed": ' + b"9" * 300 + b', "noise": ' + b"9" * 300 + b"}",
        headers={"content-type": "application/json"},
        timeout=TIMEOUT,
    )
    assert r.status_code == 400
    assert r.json()["setting"] == "seed"
    assert r.json()["error"].startswith("seed must be an integer from 0 to 2147483647; got 999")


@pytest.mark.parametrize("path", ["/api/sessions", "/api/sessions/{sid}/upload?name=a.csv"])
def test_a_client_that_leaves_mid_body_leaves_nothing_on_stderr(quiet, path):
    sid = quiet.new_session()
    raw(
        quiet.port,
        f"POST {path.format(sid=sid)} HTTP/1.1\nHost: 127.0.0.1:{quiet.port}\n"
        "Content-Type: text/csv\nContent-Length: 1000000\n",
        [b"a,b,c\n" * 1000],
        read=False,
    )
    # the server goes on serving
    assert httpx2.get(f"{quiet.url}/api/sessions/{sid}", timeout=TIMEOUT).status_code == 200


# ---------------------------------------------------------------------------- uploads
def upload(server, sid: str, content: bytes, name: str = "wide.csv") -> httpx2.Response:
    return httpx2.post(
        f"{server.url}/api/sessions/{sid}/upload?name={name}",
        content=content,
        headers={"content-type": "text/csv"},
        timeout=TIMEOUT,
    )


def test_a_file_of_190000_columns_is_refused_with_the_bound(quiet):
    # 1.99 MB: a header of 190,000 names and three rows.
    n = 190_000
    header = ",".join(f"c{i}" for i in range(n))
    content = (header + "\n" + ("1," * (n - 1) + "1\n") * 3).encode()[:1_990_000]
    sid = quiet.new_session()
    r = upload(quiet, sid, content)
    assert r.status_code == 400
    assert r.json() == {
        "error": (
            f"wide.csv has {n:,} columns (line 1); the playground takes at most 300 columns: "
            "keep the two to draw and the target"
        ),
        "setting": "upload",
    }


def test_a_wide_data_row_is_refused_by_its_line(quiet):
    # A first data row wider than the header: pandas would make its extra fields an
    # index of 100,000 levels.
    content = ("a,b,c\n1,2,3\n" + "1," * 99_999 + "1\n").encode()
    r = upload(quiet, quiet.new_session(), content)
    assert r.status_code == 400
    assert r.json()["error"].startswith("wide.csv has 100,000 columns (line 3); ")


def test_a_file_of_the_bounds_width_is_taken(quiet):
    names = [f"c{i}" for i in range(MAX_UPLOAD_COLUMNS - 1)] + ["label"]
    rows = [
        ",".join([str(r), str(r * r % 7), *["0"] * (MAX_UPLOAD_COLUMNS - 3), f"k{r % 2}"])
        for r in range(40)
    ]
    content = (",".join(names) + "\n" + "\n".join(rows) + "\n").encode()
    sid = quiet.new_session()
    r = upload(quiet, sid, content)
    assert r.status_code == 200, r.text
    assert len(r.json()["upload"]["columns"]) == MAX_UPLOAD_COLUMNS
    assert r.json()["settings"]["target_column"] == "label"
    one_more = content.replace(b"\n", b",x\n")
    r = upload(quiet, sid, one_more)
    assert r.status_code == 400
    assert r.json()["error"].startswith(f"wide.csv has {MAX_UPLOAD_COLUMNS + 1} columns (line 1)")


# ---------------------------------------------------------------------------- socket
def until_closed(ws) -> list:
    """The messages received until the server closes the socket."""
    messages = []
    with contextlib.suppress(ConnectionClosed):
        while True:
            messages.append(ws.recv(timeout=TIMEOUT))
    return messages


def test_a_binary_frame_is_answered_and_the_socket_closed(quiet):
    sid = quiet.new_session()
    with connect(f"ws://127.0.0.1:{quiet.port}/api/sessions/{sid}/stream") as ws:
        assert json.loads(ws.recv(timeout=TIMEOUT))["type"] == "config"
        ws.send(b"\x00\x01binary")
        messages = [json.loads(m) for m in until_closed(ws)]
    assert messages[-1] == {
        "type": "error",
        "error": "the playground's socket takes text messages; a binary one was sent",
    }
    assert ws.close_code == 1003


def test_a_message_over_1_mb_closes_the_socket(quiet):
    sid = quiet.new_session()
    with connect(f"ws://127.0.0.1:{quiet.port}/api/sessions/{sid}/stream", max_size=None) as ws:
        ws.recv(timeout=TIMEOUT)
        ws.send("x" * (MAX_JSON_BYTES + 1))
        until_closed(ws)
    assert ws.close_code == 1009  # message too big


# ---------------------------------------------------------------------------- stopping
def test_ctrl_c_during_an_upload_answers_it_and_stops_quietly():
    server = Playground()
    try:
        sid = server.new_session()
        result = {}

        def uploading():
            result["response"] = raw(
                server.port,
                f"POST /api/sessions/{sid}/upload?name=a.csv HTTP/1.1\n"
                f"Host: 127.0.0.1:{server.port}\nContent-Type: text/csv\n"
                "Content-Length: 1000000\n",
                [b"a,b,c\n" * 1000],
            )

        client = threading.Thread(target=uploading)
        client.start()
        time.sleep(1)  # the body has begun to arrive
        server.interrupt()
        client.join(TIMEOUT)
    finally:
        out, err = server.stop()
    status, _, content = result["response"]
    assert status == 503
    assert one_line_error(content) == "the playground is stopping; the request was not read"
    assert err == ""
    assert out.splitlines()[-1] == "nnmath playground: stopped"


# ---------------------------------------------------------------------------- --host
@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_listening_on_every_address_warns_what_anyone_can_do(host):
    if host == "::" and not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    server = Playground("--host", host)
    try:
        sid = server.new_session()  # 127.0.0.1 reaches a server on every address
        evil = {"Host": f"{EVIL}:{server.port}"}
        r = httpx2.get(f"{server.url}/api/sessions/{sid}", headers=evil, timeout=TIMEOUT)
        assert r.status_code == 421
    finally:
        _, err = server.stop()
    assert err.splitlines() == [
        f"warning: --host {host} makes the playground reachable from the network: anyone "
        f"who can reach this machine on port {server.port} can open the page, train "
        "networks, upload CSV files and use this machine's CPU and memory, with no "
        "password; --host 127.0.0.1 keeps it on this machine"
    ]


def test_a_loopback_host_gives_no_warning(playground):
    assert playground.stderr() == ""
