"""The simulator's TLS material: a local CA and a server certificate for 127.0.0.1/localhost.

The official `pagerduty` client refuses plain HTTP, so the simulator serves HTTPS with a
certificate issued by a throwaway CA (`trustme`); clients trust it with `verify=<ca.pem>`.
The files are created once per simulator directory and reused afterwards, so a client that
cached the CA path keeps working across restarts.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TlsFiles:
    """Where the PEM files live."""

    ca: Path
    cert: Path
    key: Path


def tls_files(directory: Path) -> TlsFiles:
    """The paths of the CA, certificate chain and key inside a simulator directory."""
    return TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key")


def ensure_certificates(directory: Path) -> TlsFiles:
    """Create `ca.pem`, `server.pem` and `server.key` in `directory` unless all three exist."""
    files = tls_files(directory)
    if files.ca.is_file() and files.cert.is_file() and files.key.is_file():
        return files
    directory.mkdir(parents=True, exist_ok=True)
    # Imported here: trustme pulls in `cryptography`, which costs start-up time on every
    # restart although the certificates are only generated once.
    import trustme  # noqa: PLC0415

    ca = trustme.CA(
        organization_name="Vigie devstack", organization_unit_name="PagerDuty simulator"
    )
    server = ca.issue_cert("127.0.0.1", "localhost")
    # Write to temporary names then rename, so a concurrent reader never sees half a file.
    _write(files.key, server.private_key_pem.bytes(), private=True)
    _write(files.cert, b"".join(blob.bytes() for blob in server.cert_chain_pems))
    _write(files.ca, ca.cert_pem.bytes())
    return files


def server_context(files: TlsFiles) -> ssl.SSLContext:
    """A server-side TLS context (TLS 1.2+) loaded with the simulator's certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(files.cert, files.key)
    return context


def _write(path: Path, data: bytes, *, private: bool = False) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    if private:
        os.chmod(tmp, 0o600)
    os.replace(tmp, path)
