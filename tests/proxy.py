"""nginx with the shipped deploy/nginx.conf in front of test servers (ports and paths changed only)."""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT, free_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def _config(tmp: Path, listen: int, upstream: str, second: str | None = None, static: Path | None = None) -> Path:
    """The shipped config with this test's ports and paths (and nothing else) changed: its two
    upstream hosts are `upstream` and `second` (the same one twice for a single host)."""
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    for old, new in [
        ("pid /run/nginx.pid;", f"pid {tmp}/nginx.pid;"),
        ("error_log /var/log/nginx/error.log warn;", f"error_log {tmp}/error.log warn;"),
        ("/var/cache/nginx/reader", f"{tmp}/cache"),
        ("server 127.0.0.1:8000 ", f"server {upstream} "),
        ("server 127.0.0.1:8001 ", f"server {second or upstream} "),
        ("listen 80;", f"listen 127.0.0.1:{listen};"),
        ("/srv/reader/static/", f"{static or ROOT / 'static'}/"),
    ]:
        assert old in text, old
        text = text.replace(old, new)
    # Temporary files in the test's folder; as root, workers run as root to read it.
    temp = "".join(f"    {kind}_temp_path {tmp}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    text = text.replace("http {\n", "http {\n" + temp, 1)
    if subprocess.run(["id", "-u"], capture_output=True, text=True).stdout.strip() == "0":
        text = "user root;\n" + text
    path = tmp / "nginx.conf"
    path.write_text(text)
    return path



def start_nginx(tmp: Path, bases: list[str], static: Path | None = None) -> tuple[str, subprocess.Popen[bytes]]:
    """nginx on a free loopback port in front of one or two Reader hosts; (its URL, the process)."""
    if not Path(NGINX).exists():
        pytest.fail("nginx is not installed (make test installs Debian's nginx)")
    port = free_port()
    hosts = [b.removeprefix("http://") for b in bases]
    conf = _config(tmp, port, hosts[0], hosts[1] if len(hosts) > 1 else None, static)
    nginx = subprocess.Popen([NGINX, "-p", str(tmp), "-c", str(conf), "-g", "daemon off;"],
                             stderr=subprocess.DEVNULL)
    front = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            with urllib.request.urlopen(front + "/healthz", timeout=2):
                return front, nginx
        except OSError:
            if nginx.poll() is not None:
                raise RuntimeError((tmp / "error.log").read_text()) from None
            time.sleep(0.1)
    stop_nginx(nginx)
    raise RuntimeError("nginx did not answer")


def stop_nginx(nginx: subprocess.Popen[bytes]) -> None:
    nginx.terminate()
    nginx.wait(timeout=10)
