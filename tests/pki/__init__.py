"""The suite's real test PKI: certomancer (pyHanko's own test PKI tool) behind a real HTTP
server on 127.0.0.1, started by the tests themselves (`make test` needs nothing else).

`TestPki.start(folder)` generates the keys (ECDSA P-256: fast to make and to use), builds the
architecture of tests/pki/certomancer.yml with the server's address in every CRL and TSA URL,
and serves the CRLs and the RFC 3161 time-stamping authority from a daemon thread. The
certificates are computed on demand and are the same for every reader in one run; the CRL
and the timestamps carry the process's "now" (time-machine moves it for the server too).
"""

import threading
from dataclasses import dataclass
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from certomancer.integrations.animator import Animator, AnimatorArchStore
from certomancer.registry import ArchLabel, CertLabel, CertomancerConfig, ServiceLabel
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

CONFIG = Path(__file__).with_name("certomancer.yml")
ARCH = ArchLabel("esure-test")
KEYS = ("root", "seal", "tsa", "other", "stranger-root", "stranger")
PASSPHRASE = "test-only-seal-passphrase"


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # one line per CRL/TSA request is noise
        pass


class _ThreadingWSGIServer(WSGIServer):
    daemon_threads = True

    def process_request(self, request, client_address):
        thread = threading.Thread(target=self._handle, args=(request, client_address), daemon=True)
        thread.start()

    def _handle(self, request, client_address):
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)


@dataclass
class TestPki:
    folder: Path
    url: str
    arch: object
    server: WSGIServer

    @classmethod
    def start(cls, folder):
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name in KEYS:
            key = ec.generate_private_key(ec.SECP256R1())
            (folder / f"{name}.key.pem").write_bytes(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
        server = make_server(
            "127.0.0.1",
            0,
            lambda *a: None,
            server_class=_ThreadingWSGIServer,
            handler_class=_QuietHandler,
        )
        url = f"http://127.0.0.1:{server.server_port}"
        config = CertomancerConfig.from_file(
            str(CONFIG), key_search_dir=str(folder), external_url_prefix=url
        )
        arch = config.get_pki_arch(ARCH)
        server.set_app(Animator(AnimatorArchStore(config.pki_archs), with_web_ui=False))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return cls(folder=folder, url=url, arch=arch, server=server)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    @property
    def tsa_url(self):
        return self.arch.service_registry.get_tsa_info(ServiceLabel("tsa")).url

    def cert_der(self, label):
        return self.arch.get_cert(CertLabel(label)).dump()

    def write_p12(self, label, passphrase=PASSPHRASE):
        """A PKCS#12 file of the certificate `label`, its key and its chain; returns its path."""
        path = self.folder / f"{label}.p12"
        path.touch(mode=0o600)  # as production keeps it (system check certificates.W002)
        path.write_bytes(self.arch.package_pkcs12(CertLabel(label), password=passphrase.encode()))
        path.chmod(0o600)
        return path
