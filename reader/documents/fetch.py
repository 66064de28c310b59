"""Fetch a URL safely: http(s) only, public addresses only (checked at every hop), bounded in time and size."""

from __future__ import annotations

import logging
import socket
import string
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import Message
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from ..errors import (
    BadRequest,
    BlockedAddress,
    FetchTimeout,
    TooLarge,
    TooManyRedirects,
    Unreachable,
    UpstreamStatus,
)

LOGGER = logging.getLogger(__name__)

IPAddress = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network
Resolver = Callable[[str], Sequence[str | IPAddress]]

REDIRECTS = (301, 302, 303, 307, 308)
CHUNK = 64 * 1024
HEADERS = {
    "User-Agent": "Mozilla/5.0 (compatible; Reader/0.1; read-aloud server)",
    "Accept": "text/html,application/xhtml+xml,application/pdf;q=0.9,text/plain;q=0.8,*/*;q=0.5",
    # Only what urllib3 decodes without optional packages; the decoded size is what counts.
    "Accept-Encoding": "gzip, deflate",
}
# Never a place to fetch from, whatever the settings: unspecified, broadcast, reserved,
# documentation and discard ranges.
_NEVER = tuple(ip_network(n) for n in (
    "0.0.0.0/8", "240.0.0.0/4", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24",
    "::/128", "100::/64", "2001:db8::/32",
))
# Private in practice though Python's tables call them global (or only "reserved").
_ALSO_PRIVATE = tuple(ip_network(n) for n in (
    "100.64.0.0/10", "192.0.0.0/24", "198.18.0.0/15", "fec0::/10", "64:ff9b:1::/48",
))
_NAT64 = ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ip_network("::/96")


@dataclass(frozen=True)
class Target:
    """A URL taken apart: what to ask for, and from which host."""

    url: str
    scheme: str
    host: str  # lower case, IDNA-encoded; an IP address as text for literals
    port: int
    path: str
    literal: IPAddress | None  # set when the URL names an address, not a host name

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


@dataclass(frozen=True)
class Fetched:
    """A downloaded body with what the server said about it (which is not trusted)."""

    url: str
    data: bytes
    content_type: str
    charset: str | None


def parse_ipv4(host: str) -> IPv4Address | None:
    """A host that ends in a number is an IPv4 address, in any form browsers accept.

    http://2130706433/, http://0x7f.1/, http://017700000001/ and http://127.1/ all mean
    127.0.0.1 (WHATWG URL, IPv4 parser). Returns None for a host name; raises BadRequest
    for a host that ends in a number but is no address.
    """
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    if not _ends_in_number(parts[-1]):
        return None
    numbers = [_ipv4_number(part, host) for part in parts]
    if len(numbers) > 4 or any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        raise BadRequest(f"{host!r} is not a valid IPv4 address.")
    value = numbers[-1] + sum(n * 256 ** (3 - i) for i, n in enumerate(numbers[:-1]))
    return IPv4Address(value)


def _ends_in_number(part: str) -> bool:
    if part.isascii() and part.isdigit():
        return True
    return part[:2].lower() == "0x" and all(c in string.hexdigits for c in part[2:])


def _ipv4_number(part: str, host: str) -> int:
    digits, radix = part, 10
    if part[:2].lower() == "0x":
        digits, radix = part[2:], 16
    elif len(part) > 1 and part.startswith("0"):
        digits, radix = part[1:], 8
    if digits == "" and radix != 10:
        return 0
    try:
        if not digits.isascii():
            raise ValueError(digits)
        return int(digits, radix)
    except ValueError:
        raise BadRequest(f"{host!r} is not a valid IPv4 address.") from None


def embedded_ipv4(ip: IPAddress) -> IPv4Address | None:
    """The IPv4 address an IPv6 address carries: mapped, 6to4, NAT64 or IPv4-compatible."""
    if isinstance(ip, IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped  # ::ffff:a.b.c.d
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64 or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        return IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def refusal(ip: IPAddress, *, allow_private: bool = False) -> str | None:
    """Why fetching from `ip` is refused ("a loopback address"...), or None when it is allowed."""
    inner = embedded_ipv4(ip)
    if inner is not None:
        reason = refusal(inner, allow_private=allow_private)
        if reason or ip not in _IPV4_COMPATIBLE:
            return reason  # mapped, 6to4 and NAT64 reach the IPv4 address: it decides
        return "a reserved address"  # IPv4-compatible (::a.b.c.d) is deprecated and never routed
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_multicast:
        return "a multicast address"
    if any(ip in net for net in _NEVER if net.version == ip.version):
        return "a reserved address"
    if allow_private:
        return None
    if ip.is_loopback:
        return "a loopback address (this server itself)"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_private or not ip.is_global or any(ip in net for net in _ALSO_PRIVATE if net.version == ip.version):
        return "a private network address"
    if ip.is_reserved:
        return "a reserved address"
    return None


def parse_target(url: object) -> Target:
    """Check a URL's shape: http or https, a host, a valid port; no user names or passwords."""
    if not isinstance(url, str) or not url.strip():
        raise BadRequest("'url' must be a web address such as https://example.org/page.")
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BadRequest(f"{url!r} is not a valid web address: {exc}.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise BadRequest("Only http:// and https:// web addresses can be read.")
    if parts.username is not None or parts.password is not None:
        raise BadRequest("Web addresses with a user name or password are not supported.")
    host = unquote(parts.hostname or "").rstrip(".") if parts.hostname else ""
    if not host:
        raise BadRequest(f"{url!r} has no host name.")
    literal: IPAddress | None
    if ":" in (parts.hostname or ""):
        try:
            literal = ip_address(host.split("%")[0])
        except ValueError:
            raise BadRequest(f"{host!r} is not a valid IPv6 address.") from None
        host = str(literal)
    else:
        try:
            host = host.encode("idna").decode("ascii").lower()
        except UnicodeError:
            raise BadRequest(f"{host!r} is not a valid host name.") from None
        literal = parse_ipv4(host)
        if literal is not None:
            host = str(literal)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(url=url, scheme=scheme, host=host, port=port or (443 if scheme == "https" else 80),
                  path=path, literal=literal)


def system_resolver(host: str) -> list[str]:
    """The machine's resolver (getaddrinfo): every address of `host`."""
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@dataclass
class Fetcher:
    """Downloads one page, checking every address it connects to, redirects included."""

    allow_private: bool = False
    allowed_networks: tuple[Network, ...] = ()  # allowed even though private (intranets, tests)
    connect_timeout: float = 5.0
    timeout: float = 20.0
    max_bytes: int = 20 * 1024 * 1024
    max_redirects: int = 5
    resolver: Resolver = field(default=system_resolver)
    ca_certs: str | None = None  # a CA bundle to trust instead of certifi's (intranets, tests)

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> Fetcher:
        """A Fetcher with the limits of the app's Settings."""
        values: dict[str, Any] = {
            "allow_private": settings.allow_private_urls,
            "connect_timeout": settings.fetch_connect_timeout,
            "timeout": settings.fetch_timeout,
            "max_bytes": settings.max_download_mb * 1024 * 1024,
        }
        values.update(overrides)
        return cls(**values)

    def check(self, ip: IPAddress, host: str) -> None:
        """Raise BlockedAddress unless `ip` may be fetched from."""
        if any(ip in net for net in self.allowed_networks if net.version == ip.version):
            return
        reason = refusal(ip, allow_private=self.allow_private)
        if reason:
            shown = host if host == str(ip) else f"{host} ({ip})"
            raise BlockedAddress(f"{shown} is {reason}; Reader only reads public web pages.")

    def addresses(self, target: Target) -> list[IPAddress]:
        """Every address of the target's host, each checked; refused if any one is refused."""
        if target.literal is not None:
            found: list[IPAddress] = [target.literal]
        else:
            found = [ip_address(str(a).split("%")[0]) for a in self._resolve(target.host)]
            if not found:
                raise Unreachable(f"{target.host} has no address.")
        for ip in found:
            # A host with one private address among public ones is refused whole: which one
            # a later lookup would give is not ours to choose.
            self.check(ip, target.host)
        return list(dict.fromkeys(found))

    def _resolve(self, host: str) -> Sequence[str | IPAddress]:
        # getaddrinfo has no timeout of its own: wait for it in a thread, at most connect_timeout.
        box: list[Sequence[str | IPAddress] | BaseException] = []

        def run() -> None:
            try:
                box.append(self.resolver(host))
            except BaseException as exc:
                box.append(exc)

        worker = threading.Thread(target=run, name="reader-resolve", daemon=True)
        worker.start()
        worker.join(self.connect_timeout)
        if not box:
            raise FetchTimeout(f"Looking up {host} took longer than {self.connect_timeout:g} s.")
        if isinstance(box[0], BaseException):
            raise Unreachable(f"{host} was not found: check the web address.") from box[0]
        return box[0]

    def fetch(self, url: object) -> Fetched:
        """GET `url`, following at most `max_redirects` redirects; every hop is checked."""
        deadline = time.monotonic() + self.timeout
        target = parse_target(url)
        for _ in range(self.max_redirects + 1):
            resp = self._open(target, self.addresses(target), deadline)
            try:
                location = resp.headers.get("Location")
                if resp.status in REDIRECTS and location:
                    target = parse_target(urljoin(target.url, location.strip()))
                    continue
                if not 200 <= resp.status < 300:
                    raise UpstreamStatus(
                        f"{target.host_header} answered {resp.status} {resp.reason or ''}".rstrip() + ".",
                        upstream_status=resp.status,
                    )
                declared = resp.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > self.max_bytes:
                    raise self._too_large()
                data = self._read(resp, target, deadline)
            finally:
                resp.close()  # also what stops a download that is too large or too slow
            message = Message()
            message["Content-Type"] = resp.headers.get("Content-Type", "")
            charset = message.get_param("charset")
            LOGGER.info("fetched %s: %d bytes", target.host_header, len(data))
            return Fetched(url=target.url, data=data, content_type=message.get_content_type(),
                           charset=charset if isinstance(charset, str) else None)
        raise TooManyRedirects(f"The web address redirected more than {self.max_redirects} times.")

    def _open(self, target: Target, addresses: list[IPAddress], deadline: float) -> Any:
        """Connect to a checked address (never a fresh lookup: no DNS rebinding) and send the GET."""
        import urllib3
        from urllib3.exceptions import HTTPError, NewConnectionError

        error: Exception | None = None
        for ip in addresses:
            left = self._remaining(deadline)
            timeout = urllib3.Timeout(connect=min(self.connect_timeout, left), read=left)
            pool: Any
            if target.scheme == "https":
                # Certificates and SNI are checked against the host name, not the address.
                pool = urllib3.HTTPSConnectionPool(
                    str(ip), target.port, timeout=timeout, retries=False, maxsize=1,
                    server_hostname=target.host, assert_hostname=target.host,
                    cert_reqs="CERT_REQUIRED", ca_certs=self.ca_certs or _ca_certs(),
                )
            else:
                pool = urllib3.HTTPConnectionPool(str(ip), target.port, timeout=timeout, retries=False, maxsize=1)
            try:
                return pool.urlopen(
                    "GET", target.path, headers={**HEADERS, "Host": target.host_header},
                    redirect=False, retries=False, preload_content=False, decode_content=True,
                    assert_same_host=False, release_conn=False,
                )
            except NewConnectionError as exc:
                error = exc  # refused: the host's next address may answer
            except (HTTPError, OSError) as exc:
                raise self._translate(exc, target) from exc
            finally:
                pool.close()
        assert error is not None
        raise self._translate(error, target) from error

    def _read(self, resp: Any, target: Target, deadline: float) -> bytes:
        """The body, stopped as soon as it passes max_bytes or the deadline."""
        from urllib3.exceptions import HTTPError

        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                left = self._remaining(deadline)
                sock = getattr(resp.connection, "sock", None)
                if sock is not None:
                    sock.settimeout(left)  # a body that trickles in still ends at the deadline
                chunk = resp.read1(CHUNK, decode_content=True)
                if not chunk:
                    return b"".join(chunks)
                size += len(chunk)
                if size > self.max_bytes:
                    raise self._too_large()
                chunks.append(chunk)
        except (HTTPError, OSError) as exc:
            raise self._translate(exc, target) from exc

    def _translate(self, exc: Exception, target: Target) -> Unreachable:
        from urllib3.exceptions import NewConnectionError, SSLError
        from urllib3.exceptions import TimeoutError as Urllib3Timeout

        host = target.host_header
        if isinstance(exc, NewConnectionError):
            return Unreachable(f"Could not connect to {host}: nothing answered there.")
        if isinstance(exc, (Urllib3Timeout, TimeoutError)):
            return FetchTimeout(f"{host} did not answer within the time limit.")
        if isinstance(exc, SSLError):
            return Unreachable(f"The secure connection to {host} failed (its certificate could not be verified).")
        return Unreachable(f"The connection to {host} failed.")

    def _remaining(self, deadline: float) -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise FetchTimeout(f"The web page took longer than {self.timeout:g} s.")
        return left

    def _too_large(self) -> TooLarge:
        mb = self.max_bytes / (1024 * 1024)
        return TooLarge(f"The web page is larger than the limit of {mb:g} MB (READER_MAX_DOWNLOAD_MB).")


def _ca_certs() -> str | None:
    try:
        import certifi
    except ImportError:
        return None  # the system's store
    return str(certifi.where())
