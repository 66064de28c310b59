"""Safe fetching: refused addresses (checked without connecting) and real servers on 127.0.0.1."""

from __future__ import annotations

import gzip
import http.server
import ipaddress
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from reader.documents import ingest
from reader.documents.fetch import (
    Fetcher,
    FetchTimeout,
    TooManyRedirects,
    Unreachable,
    UpstreamStatus,
    parse_target,
    refusal,
)
from reader.errors import BadRequest, BlockedAddress, TooLarge, UnsupportedMedia

LOOPBACK = ipaddress.ip_network("127.0.0.0/8")
ARTICLE = (
    b"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Local page</title></head>"
    b"<body><nav><a href='/'>Home</a></nav><main><h1>Local page</h1>"
    b"<p>This page is served from the loopback address by the test itself, for the fetcher.</p>"
    b"<p>It has a second paragraph, so that there is enough text to call it an article.</p>"
    b"</main></body></html>"
)

Handler = Callable[[http.server.BaseHTTPRequestHandler], None]


class LocalServer:
    """A real HTTP server on 127.0.0.1 in a thread; routes are path -> handler function."""

    def __init__(self, routes: dict[str, Handler]) -> None:
        self.routes = routes
        self.disconnected = threading.Event()  # set when a client hung up mid-body
        self.requests: list[tuple[str, str]] = []  # (path, Host header)
        server = self

        class _Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                server.requests.append((self.path, self.headers.get("Host", "")))
                try:
                    server.routes.get(path, not_found)(self)
                except (BrokenPipeError, ConnectionResetError):
                    server.disconnected.set()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> LocalServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


def send(handler: http.server.BaseHTTPRequestHandler, body: bytes, content_type: str = "text/html; charset=utf-8",
         status: int = 200, headers: dict[str, str] | None = None) -> None:
    """A complete response with a Content-Length."""
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


def not_found(handler: http.server.BaseHTTPRequestHandler) -> None:
    send(handler, b"<html><body><h1>Not found</h1></body></html>", status=404)


def redirect(handler: http.server.BaseHTTPRequestHandler) -> None:
    """/hop?n=N redirects N more times, then to /article; /away?to=URL redirects to URL."""
    query = dict(p.split("=", 1) for p in handler.path.partition("?")[2].split("&") if "=" in p)
    if "to" in query:
        location = urllib.parse.unquote(query["to"])
    else:
        n = int(query.get("n", "0"))
        location = f"/hop?n={n - 1}" if n > 1 else "/article"
    handler.send_response(302)
    handler.send_header("Location", location)
    handler.send_header("Content-Length", "0")
    handler.end_headers()


def stream(handler: http.server.BaseHTTPRequestHandler, chunk: bytes, pause: float, seconds: float = 10.0,
           length: int | None = None) -> None:
    """Send `chunk` again and again until the client hangs up (bounded: `seconds`)."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    if length is not None:
        handler.send_header("Content-Length", str(length))
    handler.send_header("Connection", "close")
    handler.end_headers()
    handler.wfile.write(b"<html><body><p>")
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        handler.wfile.write(chunk)
        handler.wfile.flush()
        if pause:
            time.sleep(pause)


def _pdf() -> bytes:
    """A real (small, generated) PDF."""
    from test_pdf import make_pdf

    return make_pdf([[(72, 700, [("A PDF served with the wrong content type.", 11.0)])]])


ROUTES: dict[str, Handler] = {
    "/article": lambda h: send(h, ARTICLE),
    "/hop": redirect,
    "/away": redirect,
    "/echo-host": lambda h: send(h, h.headers.get("Host", "").encode(), "text/plain"),
    "/slow": lambda h: stream(h, b"a", 0.05, seconds=30.0),
    "/huge": lambda h: stream(h, b"word " * 10_000, 0.0),
    "/huge-declared": lambda h: stream(h, b"word " * 10_000, 0.0, length=50 * 1024 * 1024),
    "/gzip-bomb": lambda h: send(h, gzip.compress(b" " * (8 * 1024 * 1024)), "text/html",
                                 headers={"Content-Encoding": "gzip"}),
    "/pdf-as-html": lambda h: send(h, _pdf(), "text/html"),
    "/blob": lambda h: send(h, bytes(range(256)) * 64, "text/html"),
    "/broken": lambda h: send(h, b"<h1>Server error</h1>", status=500),
}


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer(ROUTES) as srv:
        yield srv


@pytest.fixture(autouse=True)
def connections(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every connect() the test makes; one to anything but loopback fails the test at once."""
    made: list[tuple[str, int]] = []
    real_connect = socket.socket.connect

    def guarded(sock: socket.socket, address: Any) -> None:
        host = address[0] if isinstance(address, tuple) else str(address)
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            ip = ipaddress.ip_address(host.split("%")[0])
            assert ip.is_loopback, f"the test tried to connect to {host}"
            made.append((host, address[1]))
        real_connect(sock, address)

    real_getaddrinfo = socket.getaddrinfo

    def no_dns(host: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            ipaddress.ip_address(str(host).split("%")[0])
        except ValueError:
            raise AssertionError(f"the test tried a DNS lookup of {host!r}") from None
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    return made


def resolver(table: dict[str, list[str]]) -> Callable[[str], list[str]]:
    """A stand-in for DNS: names from a table, nothing sent anywhere."""
    def resolve(host: str) -> list[str]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return table[host]
    return resolve


# -- addresses, checked without connecting ------------------------------------------------------


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/", "http://localhost.test/", "http://2130706433/", "http://0x7f.1/",
    "http://017700000001/", "http://127.1/", "http://0x7f000001/", "http://0177.0.0.1/",
    "http://0x7F.0x0.0x0.0x1/", "http://127.0.0.1./", "http://%31%32%37.0.0.1/",
    "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/", "http://[::ffff:10.0.0.1]/",
    "http://[64:ff9b::7f00:1]/", "http://[64:ff9b::a00:1]/", "http://[2002:7f00:1::]/",
    "http://[2002:c0a8:101::]/", "http://[::7f00:1]/", "http://[::a00:1]/",
    "http://0/", "http://0.0.0.0/", "http://[::]/", "http://10.0.0.1/", "http://10.255.255.255:8080/",
    "http://172.16.0.1/", "http://172.31.255.254/", "http://192.168.1.1/", "http://100.64.0.1/",
    "http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/", "http://[fe80::1%25eth0]/",
    "http://[fc00::1]/", "http://[fd12:3456::1]/", "http://[fec0::1]/", "http://224.0.0.1/",
    "http://239.255.255.250/", "http://[ff02::1]/", "http://255.255.255.255/", "http://240.0.0.1/",
    "http://192.0.2.1/", "http://198.18.0.1/", "http://[2001:db8::1]/", "http://[64:ff9b:1::1]/",
    "https://127.0.0.1:443/", "HTTP://LOCALHOST.TEST:80/",
])
def test_refused_addresses_are_refused_before_connecting(url: str, connections: list[Any]) -> None:
    fetcher = Fetcher(resolver=resolver({"localhost.test": ["127.0.0.1", "::1"]}))
    with pytest.raises(BlockedAddress) as caught:
        fetcher.fetch(url)
    assert caught.value.status == 403
    assert "public" in caught.value.detail
    assert connections == []


@pytest.mark.parametrize("address", [
    "8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700::1111", "2a00:1450:4001:80b::200e",
    "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::",
])
def test_public_addresses_are_allowed(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None  # classified only: nothing is sent


@pytest.mark.parametrize("address,allowed", [
    ("127.0.0.1", True), ("10.0.0.1", True), ("::1", True), ("fe80::1", True), ("fd00::1", True),
    ("0.0.0.0", False), ("224.0.0.1", False), ("255.255.255.255", False), ("::", False),
])
def test_allow_private_allows_private_but_never_unspecified_or_multicast(address: str, allowed: bool) -> None:
    assert (refusal(ipaddress.ip_address(address), allow_private=True) is None) is allowed


@pytest.mark.parametrize("table,host", [
    ({"intranet.test": ["10.0.0.1"]}, "intranet.test"),
    ({"mixed.test": ["93.184.216.34", "127.0.0.1"]}, "mixed.test"),  # one bad address is enough
    ({"mapped.test": ["::ffff:192.168.1.1"]}, "mapped.test"),
    ({"metadata.test": ["169.254.169.254"]}, "metadata.test"),
])
def test_host_names_are_checked_by_what_they_resolve_to(
    table: dict[str, list[str]], host: str, connections: list[Any]
) -> None:
    with pytest.raises(BlockedAddress):
        Fetcher(resolver=resolver(table)).fetch(f"http://{host}/page")
    assert connections == []


@pytest.mark.parametrize("url", [
    "ftp://example.test/file", "file:///etc/passwd", "javascript:alert(1)", "gopher://x.test/",
    "http://user:secret@example.test/", "http:///nohost", "not a url", "", "http://1.2.3.4.5/",
    "http://256.0.0.1/", "http://08.1/", "http://example.test:99999/", "http://[::1/",
])
def test_malformed_or_unsupported_urls_are_400(url: str, connections: list[Any]) -> None:
    with pytest.raises(BadRequest):
        Fetcher(resolver=resolver({})).fetch(url)
    assert connections == []


def test_numeric_hosts_parse_as_browsers_do() -> None:
    for url in ("http://2130706433/", "http://0x7f.1/", "http://017700000001/", "http://127.1/"):
        assert str(parse_target(url).literal) == "127.0.0.1"
    assert parse_target("http://example.test/a?b=1").literal is None
    assert parse_target("https://Bücher.test/x").host == "xn--bcher-kva.test"


def test_unknown_host_and_slow_dns() -> None:
    with pytest.raises(Unreachable) as caught:
        Fetcher(resolver=resolver({})).fetch("http://nowhere.test/")
    assert caught.value.status == 422 and "nowhere.test" in caught.value.detail

    answer = threading.Event()  # DNS answers only once the fetch has given up: no clock needed

    def slow(host: str) -> list[str]:
        answer.wait(60)
        return ["93.184.216.34"]

    try:
        with pytest.raises(FetchTimeout):
            Fetcher(resolver=slow, connect_timeout=0.2).fetch("http://slow-dns.test/")
        assert not answer.is_set()  # it gave up while the resolver was still asked
    finally:
        answer.set()


# -- real servers on 127.0.0.1 ----------------------------------------------------------------------


def test_page_is_fetched_when_private_addresses_are_allowed(server: LocalServer) -> None:
    page = Fetcher(allow_private=True).fetch(server.base + "/article")
    assert page.data == ARTICLE
    assert page.content_type == "text/html" and page.charset == "utf-8"
    assert page.url == server.base + "/article"


def test_the_same_page_is_refused_when_they_are_not(server: LocalServer, connections: list[Any]) -> None:
    with pytest.raises(BlockedAddress) as caught:
        Fetcher().fetch(server.base + "/article")
    assert caught.value.status == 403
    assert connections == [] and server.requests == []


def test_five_redirects_are_followed_six_are_too_many(server: LocalServer) -> None:
    fetcher = Fetcher(allow_private=True)
    page = fetcher.fetch(server.base + "/hop?n=5")
    assert page.url == server.base + "/article" and page.data == ARTICLE
    with pytest.raises(TooManyRedirects) as caught:
        fetcher.fetch(server.base + "/hop?n=6")
    assert 400 <= caught.value.status < 500


def test_a_redirect_to_a_refused_address_is_refused(server: LocalServer, connections: list[Any]) -> None:
    fetcher = Fetcher(allowed_networks=(LOOPBACK,), resolver=resolver({"intranet.test": ["10.0.0.1"]}))
    for target in ("http://intranet.test/secret", "http://169.254.169.254/latest/", "http://[::ffff:a00:1]/"):
        with pytest.raises(BlockedAddress):
            fetcher.fetch(f"{server.base}/away?to={target}")
    assert {host for host, _ in connections} == {"127.0.0.1"}
    # A redirect to another scheme is refused too.
    with pytest.raises(BadRequest):
        fetcher.fetch(f"{server.base}/away?to=file:///etc/passwd")


def test_connects_to_the_address_it_checked(server: LocalServer, connections: list[Any]) -> None:
    """A resolver that answers differently the second time (DNS rebinding) is asked once per hop."""
    answers = iter([["127.0.0.1"], ["10.0.0.1"], ["10.0.0.1"]])
    asked: list[str] = []

    def rebinding(host: str) -> list[str]:
        asked.append(host)
        return next(answers)

    fetcher = Fetcher(allowed_networks=(LOOPBACK,), resolver=rebinding)
    page = fetcher.fetch(f"http://rebind.test:{server.port}/echo-host")
    assert asked == ["rebind.test"]
    assert page.data.decode() == f"rebind.test:{server.port}"  # the Host header names the host
    assert connections == [("127.0.0.1", server.port)]


def test_endless_slow_body_times_out(server: LocalServer) -> None:
    """The body goes on for 30 s: the fetch gives up once its whole second is spent (not before;
    that it raises at all shows it did not wait for the end, which would have been a whole body)."""
    started = time.monotonic()
    with pytest.raises(FetchTimeout) as caught:
        Fetcher(allow_private=True, timeout=1.0).fetch(server.base + "/slow")
    assert time.monotonic() - started > 0.9
    assert 400 <= caught.value.status < 500


def test_body_over_the_limit_is_413_and_the_download_stops(server: LocalServer) -> None:
    fetcher = Fetcher(allow_private=True, max_bytes=1024 * 1024)
    with pytest.raises(TooLarge) as caught:
        fetcher.fetch(server.base + "/huge")
    assert caught.value.status == 413 and "1 MB" in caught.value.detail
    assert server.disconnected.wait(5), "the server kept sending after the client gave up"
    with pytest.raises(TooLarge):
        fetcher.fetch(server.base + "/huge-declared")  # refused on its Content-Length alone
    with pytest.raises(TooLarge):
        fetcher.fetch(server.base + "/gzip-bomb")  # 8 kB on the wire, 8 MB unpacked


def test_pdf_served_as_html_is_sniffed_as_pdf(server: LocalServer) -> None:
    page = Fetcher(allow_private=True).fetch(server.base + "/pdf-as-html")
    assert page.content_type == "text/html"
    assert ingest.sniff(page.data, "html") == "pdf"


def test_binary_blob_is_415(server: LocalServer, settings: Any, tmp_path: Path) -> None:
    import dataclasses

    from reader.documents.store import DocumentStore

    allowed = dataclasses.replace(settings, allow_private_urls=True)
    with pytest.raises(UnsupportedMedia) as caught:
        ingest.from_url(DocumentStore(tmp_path / "docs"), server.base + "/blob", settings=allowed)
    assert caught.value.status == 415


@pytest.mark.parametrize("path,status", [("/missing", 404), ("/broken", 500)])
def test_error_pages_are_a_clear_problem(server: LocalServer, path: str, status: int) -> None:
    with pytest.raises(UpstreamStatus) as caught:
        Fetcher(allow_private=True).fetch(server.base + path)
    assert 400 <= caught.value.status < 500
    assert str(status) in caught.value.detail
    assert caught.value.extra["upstream_status"] == status


def test_closed_port_is_a_clear_problem() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # free now, and nothing listens once it is closed
    with pytest.raises(Unreachable) as caught:
        Fetcher(allow_private=True).fetch(f"http://127.0.0.1:{port}/")
    assert caught.value.status == 422 and "connect" in caught.value.detail


# -- https: connected to the checked address, verified against the host name --------------------------


def _certificates(directory: Path, name: str) -> tuple[Path, Path, Path]:
    """A test CA, and a certificate it signed for `name`: (ca.pem, cert.pem, key.pem)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def subject(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(subject("Reader test CA")).issuer_name(subject("Reader test CA"))
          .public_key(ca_key.public_key()).serial_number(1).not_valid_before(now - datetime.timedelta(hours=1))
          .not_valid_after(now + datetime.timedelta(hours=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder().subject_name(subject(name)).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(2).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = directory / "ca.pem", directory / "cert.pem", directory / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


def test_https_is_verified_against_the_host_name(tmp_path: Path, connections: list[Any]) -> None:
    import ssl

    ca, cert, key = _certificates(tmp_path, "secure.test")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with LocalServer(ROUTES) as srv:
        srv.httpd.socket = context.wrap_socket(srv.httpd.socket, server_side=True)
        names = resolver({"secure.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})
        trusting = Fetcher(allowed_networks=(LOOPBACK,), resolver=names, ca_certs=str(ca))
        page = trusting.fetch(f"https://secure.test:{srv.port}/echo-host")
        assert page.data.decode() == f"secure.test:{srv.port}"  # SNI and Host name the host
        with pytest.raises(Unreachable, match="certificate"):
            trusting.fetch(f"https://other.test:{srv.port}/echo-host")  # the name does not match
        with pytest.raises(Unreachable, match="certificate"):
            Fetcher(allowed_networks=(LOOPBACK,), resolver=names).fetch(f"https://secure.test:{srv.port}/")
    assert {host for host, _ in connections} == {"127.0.0.1"}
