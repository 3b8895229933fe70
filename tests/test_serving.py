"""`townsquare run` as operators run it: HTTPS with a real certificate, and SIGTERM mid-request."""

from __future__ import annotations

import os
import secrets
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
import trustme

from tests.fixtures.accounts import PASSWORD
from tests.fixtures.database import fresh_database
from tests.fixtures.processes import free_port
from townsquare.db.urls import libpq_url


@pytest.fixture(scope="module")
def database(server_url: str) -> Iterator[str]:
    with fresh_database(server_url) as url:
        yield url


def environment(database: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database,
        "TOWNSQUARE_DATA_DIR": str(tmp_path),
        "TOWNSQUARE_ENVIRONMENT": "production",
        "TOWNSQUARE_AUTH__JWT_SECRET": secrets.token_urlsafe(48),
        "TOWNSQUARE_RATE_LIMIT_ENABLED": "false",
    }


def start(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "townsquare", "run", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def wait_for(url: str, process: subprocess.Popen[bytes], *, verify: ssl.SSLContext | bool = True) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[0].decode()
        try:
            if httpx.get(url, verify=verify, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer")


def finish(process: subprocess.Popen[bytes], sig: signal.Signals = signal.SIGINT) -> str:
    if process.poll() is None:
        process.send_signal(sig)
    output = process.communicate(timeout=60)[0].decode()
    assert process.returncode == 0, output
    assert "Traceback" not in output
    return output


def test_serves_https_with_a_verified_certificate_and_hsts(database: str, tmp_path: Path) -> None:
    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1", "localhost")
    certfile, keyfile = tmp_path / "server.pem", tmp_path / "server.key"
    certificate.cert_chain_pems[0].write_to_path(str(certfile))
    for extra in certificate.cert_chain_pems[1:]:
        extra.write_to_path(str(certfile), append=True)
    certificate.private_key_pem.write_to_path(str(keyfile))
    trusted = ssl.create_default_context()
    authority.configure_trust(trusted)

    port = free_port()
    process = start(
        environment(database, tmp_path),
        "--port",
        str(port),
        "--ssl-certfile",
        str(certfile),
        "--ssl-keyfile",
        str(keyfile),
    )
    try:
        wait_for(f"https://127.0.0.1:{port}/healthz", process, verify=trusted)
        response = httpx.get(f"https://localhost:{port}/readyz", verify=trusted)
        assert response.status_code == 200
        assert response.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
        # A client that speaks TLS 1.2 at most still connects (granian's own minimum is 1.3) ...
        legacy = ssl.create_default_context()
        authority.configure_trust(legacy)
        legacy.maximum_version = ssl.TLSVersion.TLSv1_2
        assert httpx.get(f"https://localhost:{port}/healthz", verify=legacy).status_code == 200
        # ... a client that does not trust this authority refuses the connection ...
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(f"https://127.0.0.1:{port}/healthz")
        # ... and plain HTTP gets no answer on the TLS port.
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
    finally:
        output = finish(process)
    assert f"https://127.0.0.1:{port}" in output


def test_half_a_tls_configuration_is_refused(database: str, tmp_path: Path) -> None:
    env = {**environment(database, tmp_path), "TOWNSQUARE_SERVER__TLS_CERTFILE": str(tmp_path / "cert.pem")}
    result = subprocess.run(
        [sys.executable, "-m", "townsquare", "run"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode != 0
    assert "certificate file and its key file" in result.stderr
    assert "Traceback" not in result.stderr


def test_sigterm_lets_a_request_in_flight_finish_and_refuses_new_ones(database: str, tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = start(environment(database, tmp_path), "--port", str(port))
    try:
        wait_for(f"{base}/readyz", process)
        with httpx.Client(base_url=base) as http:
            body = {"email": "term@example.com", "username": "term", "password": PASSWORD}
            assert http.post("/auth/register", json=body).status_code == 201
            login = http.post("/auth/login", data={"username": "term", "password": PASSWORD})
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}

        answers: list[httpx.Response] = []
        with psycopg.connect(libpq_url(database)) as blocker:
            # The post waits on this lock: it is in flight, inside its transaction, at SIGTERM.
            blocker.execute("LOCK TABLE post IN ACCESS EXCLUSIVE MODE")
            posting = threading.Thread(
                target=lambda: answers.append(
                    httpx.post(f"{base}/posts", json={"content": "in flight"}, headers=headers, timeout=30)
                )
            )
            posting.start()
            waiting = (
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO post%'"
            )
            with psycopg.connect(libpq_url(database), autocommit=True) as watcher:
                deadline = time.monotonic() + 10
                while watcher.execute(waiting).fetchone() != (1,):
                    assert time.monotonic() < deadline, "the post never reached the database"
                    time.sleep(0.05)
            process.send_signal(signal.SIGTERM)
            time.sleep(1)  # shutting down: the listening socket is closed, the request still open
            with pytest.raises(httpx.ConnectError):
                httpx.get(f"{base}/healthz", timeout=2)
            assert process.poll() is None, "exited with a request in flight"
            blocker.commit()  # the lock goes; the post can finish
        posting.join(timeout=30)
    finally:
        output = finish(process, signal.SIGTERM)
    assert [answer.status_code for answer in answers] == [201]
    with psycopg.connect(libpq_url(database)) as check:
        assert check.execute("SELECT content FROM post").fetchall() == [("in flight",)]
    assert "Traceback" not in output


def test_sigterm_ends_open_event_streams_of_every_worker_and_stops_at_once(database: str, tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = start(environment(database, tmp_path), "--port", str(port), "--workers", "2")
    try:
        wait_for(f"{base}/readyz", process)
        with httpx.Client(base_url=base) as http:
            body = {"email": "streams@example.com", "username": "streams", "password": PASSWORD}
            user = http.post("/auth/register", json=body).json()
            login = http.post("/auth/login", data={"username": "streams", "password": PASSWORD})
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        ends: list[str] = []
        opened = threading.Barrier(5)

        def listen() -> None:
            url = f"{base}/users/{user['id']}/notifications/stream"
            with httpx.stream("GET", url, headers=headers, timeout=30) as response:
                assert response.status_code == 200
                opened.wait()
                ends.extend(line for line in response.iter_lines() if line.startswith("data:") and "reason" in line)

        # Four streams: with two workers and the kernel spreading connections, both hold some.
        listeners = [threading.Thread(target=listen) for _ in range(4)]
        for listener in listeners:
            listener.start()
        opened.wait(timeout=20)
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        output = finish(process, signal.SIGTERM)
        stopped = time.monotonic() - signalled
        for listener in listeners:
            listener.join(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert len(ends) == 4, output
    assert all("server-shutdown" in end for end in ends), ends
    # Not waiting out the kill timeout (grace + 5 s): every worker ended its streams and stopped.
    assert stopped < 5, output
    assert "Killing" not in output
    assert "Stopped worker-2" in output
    assert "shutdown completed" in output


def test_behind_a_trusted_proxy_the_forwarded_scheme_is_the_requests(database: str, tmp_path: Path) -> None:
    port = free_port()
    env = {**environment(database, tmp_path), "TOWNSQUARE_SERVER__TRUSTED_PROXIES": '["127.0.0.1"]'}
    process = start(env, "--port", str(port))
    forwarded = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    try:
        wait_for(f"http://127.0.0.1:{port}/readyz", process)
        # TLS ended at the proxy: the answer says so (HSTS is sent only to requests over TLS).
        response = httpx.get(f"http://127.0.0.1:{port}/healthz", headers=forwarded)
        assert response.headers["strict-transport-security"].startswith("max-age=")
        assert "strict-transport-security" not in httpx.get(f"http://127.0.0.1:{port}/healthz").headers
    finally:
        finish(process)
    # A proxy not in the list is not believed.
    port = free_port()
    process = start(environment(database, tmp_path), "--port", str(port))
    try:
        wait_for(f"http://127.0.0.1:{port}/readyz", process)
        response = httpx.get(f"http://127.0.0.1:{port}/healthz", headers=forwarded)
        assert "strict-transport-security" not in response.headers
    finally:
        finish(process)
