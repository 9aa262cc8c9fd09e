"""A small IMAP4rev1 server over TLS on loopback, enough for the intake's reader: LOGIN, SELECT,
UID SEARCH UNSEEN, UID FETCH (BODY.PEEK[]), UID STORE +FLAGS (\\Seen), LOGOUT. One client at a
time; the certificate is made for the test with openssl."""

from __future__ import annotations

import re
import socket
import ssl
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path


def make_certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


@dataclass
class Message:
    raw: bytes
    seen: bool = False


@dataclass
class IMAPServer:
    directory: Path
    user: str = "dx-comment"
    password: str = "correct horse \"battery\" 9"
    messages: list[Message] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        self.cert, key = make_certificate(self.directory)
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(self.cert, key)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))

    def url(self, password: str | None = None, folder: str = "INBOX") -> str:
        from urllib.parse import quote

        return f"imaps://{self.user}:{quote(password or self.password)}@localhost:{self.port}/{folder}"

    def close(self) -> None:
        self.sock.close()

    def _serve(self) -> None:
        while True:
            try:
                raw, _ = self.sock.accept()
            except OSError:
                return
            try:
                with self.context.wrap_socket(raw, server_side=True) as conn:
                    self._session(conn.makefile("rwb"))
            except (OSError, ssl.SSLError):
                continue

    def _session(self, io) -> None:  # noqa: ANN001
        def send(line: bytes) -> None:
            io.write(line + b"\r\n")
            io.flush()

        send(b"* OK IMAP4rev1 test server ready")
        selected = False
        while True:
            line = io.readline()
            if not line:
                return
            tag, _, rest = line.strip().partition(b" ")
            command, _, args = rest.partition(b" ")
            command = command.upper()
            if command == b"CAPABILITY":
                send(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN")
                send(tag + b" OK CAPABILITY completed")
            elif command == b"LOGIN":
                user, password = self._login_args(args.decode("utf-8"))
                if (user, password) == (self.user, self.password):
                    send(tag + b" OK LOGIN completed")
                else:
                    send(tag + b" NO [AUTHENTICATIONFAILED] Invalid credentials")
            elif command == b"SELECT":
                if args.strip(b'"') != b"INBOX":
                    send(tag + b" NO no such mailbox")
                    continue
                selected = True
                send(b"* %d EXISTS" % len(self.messages))
                send(tag + b" OK [READ-WRITE] SELECT completed")
            elif command == b"UID" and selected:
                self._uid(tag, args, send, io)
            elif command == b"LOGOUT":
                send(b"* BYE logging out")
                send(tag + b" OK LOGOUT completed")
                return
            else:
                send(tag + b" BAD unknown command")

    @staticmethod
    def _login_args(args: str) -> tuple[str, str]:
        parts = re.findall(r'"((?:[^"\\]|\\.)*)"|(\S+)', args)
        values = [a.replace('\\"', '"').replace("\\\\", "\\") if a else b for a, b in parts]
        return values[0], values[1] if len(values) > 1 else ""

    def _uid(self, tag: bytes, args: bytes, send, io) -> None:  # noqa: ANN001
        sub, _, rest = args.partition(b" ")
        sub = sub.upper()
        if sub == b"SEARCH":
            uids = [str(i + 1).encode() for i, m in enumerate(self.messages) if not m.seen]
            send(b"* SEARCH " + b" ".join(uids) if uids else b"* SEARCH")
            send(tag + b" OK SEARCH completed")
        elif sub == b"FETCH":
            uid = int(rest.split(b" ")[0])
            raw = self.messages[uid - 1].raw
            io.write(b"* %d FETCH (UID %d BODY[] {%d}\r\n" % (uid, uid, len(raw)) + raw + b")\r\n")
            send(tag + b" OK FETCH completed")
        elif sub == b"STORE":
            uid = int(rest.split(b" ")[0])
            if b"\\Seen" in rest:
                self.messages[uid - 1].seen = True
            send(b"* %d FETCH (UID %d FLAGS (\\Seen))" % (uid, uid))
            send(tag + b" OK STORE completed")
        else:
            send(tag + b" BAD unknown UID command")
