"""The consultation mailbox: each message becomes a submission on the channel 電子メール (or, from
the ward's fax server, an entry on the channel ファクス to confirm after OCR).

Sources: a Maildir (`mailbox.Maildir`, for a local MTA) or IMAP over TLS (`imaplib.IMAP4_SSL`).
A message is marked read (Maildir: moved to ``cur/`` with the ``S`` flag; IMAP: ``\\Seen``) only
after its entry is committed, so a reader killed half-way loses nothing and doubles nothing: the
next pass finds the unread message, sees its Message-ID already taken and only marks it.

What cannot be taken as it is — mail that is itself automatic, outside the period, without text
or attachment, with a refused or oversized attachment, malformed or in an unknown charset — is
held (要確認) with a Japanese reason for staff, never dropped.
"""

from __future__ import annotations

import email
import email.errors
import email.header
import email.policy
import email.utils
import hashlib
import imaplib
import io
import mailbox as stdlib_mailbox
import os
import re
import ssl
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from html.parser import HTMLParser
from pathlib import Path, PurePath
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from django.utils import timezone
from django.utils.translation import gettext as _

from hiroba.consultations.intake import conf, ocr
from hiroba.consultations.intake.models import Original, Source
from hiroba.consultations.intake.services import DUPLICATE, HELD, NEW, File, Hold, Incoming, Outcome, make_key, take
from hiroba.consultations.models import Case, Channel

# --- reading a message -----------------------------------------------------------------------

CHARSET_FALLBACKS = {
    # What Japanese mailers label one way and write another way.
    "shift_jis": ["cp932"], "shift-jis": ["cp932"], "sjis": ["cp932"], "x-sjis": ["cp932"], "windows-31j": ["cp932"],
    "iso-2022-jp": ["iso2022_jp_ext", "iso2022_jp_2", "iso2022_jp_3"], "euc-jp": ["euc_jis_2004"],
}
EXECUTABLE_SUFFIXES = {".exe", ".com", ".bat", ".cmd", ".scr", ".pif", ".msi", ".msp", ".dll", ".js", ".jse", ".vbs",
                       ".vbe", ".wsf", ".wsh", ".ps1", ".psm1", ".hta", ".jar", ".lnk", ".sh", ".app", ".reg", ".cpl"}
MACRO_SUFFIXES = {".docm", ".dotm", ".xlsm", ".xltm", ".xlam", ".pptm", ".potm", ".ppam", ".ppsm", ".sldm"}
ZIP_OFFICE_SUFFIXES = {".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp"}
SERIOUS_DEFECTS = ("StartBoundaryNotFoundDefect", "NoBoundaryInMultipartDefect", "MultipartInvariantViolationDefect",
                   "CloseBoundaryNotFoundDefect", "InvalidBase64PaddingDefect", "InvalidBase64CharactersDefect",
                   "InvalidBase64LengthDefect", "MissingHeaderBodySeparatorDefect")
AUTOMATED_LOCALPARTS = re.compile(r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?|auto-?reply|"
                                  r"autoresponder|daemon|notifications?|listserv|majordomo)([+\-_.].*)?$", re.I)
ZIP_MAX_RATIO = 100
ZIP_MAX_ENTRIES = 10_000
ZIP_MAX_UNPACKED = 200 * 1024 * 1024


class Refused(Exception):
    """A message or attachment that is held, with its code and Japanese reason."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass
class Parsed:
    """One message as the intake needs it."""

    raw: bytes
    message_id: str
    sender: str
    sender_name: str
    recipients: list[str]
    subject: str
    received_at: datetime
    text: str
    attachments: list[File] = field(default_factory=list)
    automatic: str = ""  # why it is automatic (empty: a person wrote it)
    problem: Refused | None = None


class _TextFromHTML(HTMLParser):
    """HTML made plain: text only, script and style dropped, blocks on lines of their own."""

    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style", "head", "title"):
            self.skip += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head", "title"):
            self.skip = max(0, self.skip - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextFromHTML()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def payload_bytes(part: Message) -> bytes:
    """A leaf part's content, transfer-decoded (nothing for a multipart container)."""
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def decode_part(part: Message) -> str:
    """A text part's content; ISO-2022-JP, Shift_JIS (as Windows writes it) and EUC-JP work."""
    payload = payload_bytes(part)
    charset = (part.get_content_charset() or "us-ascii").strip().lower()
    import codecs

    try:
        codecs.lookup(charset)
    except LookupError:
        raise Refused("charset", _("本文の文字コード「%(charset)s」を読めないため、取り込めませんでした。"
                                   "原本（.eml）を開いて内容を確認してください。") % {"charset": charset[:40]}) from None
    for name in [charset, *CHARSET_FALLBACKS.get(charset, [])]:
        try:
            return payload.decode(name)
        except (UnicodeDecodeError, LookupError):
            continue
    if charset in ("us-ascii", "ascii"):  # mislabelled 8-bit mail: most often UTF-8 or Shift_JIS
        for name in ("utf-8", "cp932"):
            try:
                return payload.decode(name)
            except UnicodeDecodeError:
                continue
    raise Refused("charset", _("本文が文字コード「%(charset)s」として読めない（文字化けしている）ため、"
                               "取り込めませんでした。原本（.eml）を開いて内容を確認してください。") % {"charset": charset[:40]})


def decode_words(value: str) -> str:
    """A header's encoded words (=?ISO-2022-JP?B?…?=) decoded; the raw text if they are broken."""
    try:
        return str(email.header.make_header(email.header.decode_header(value)))
    except (UnicodeDecodeError, LookupError, email.errors.HeaderParseError, ValueError):
        return value


def _header(message: Message, name: str) -> str:
    value = message.get(name, "")
    return " ".join(decode_words(str(value)).split()) if value else ""


def is_automatic(message: Message, sender: str) -> str:
    """Why a message was sent by a program (RFC 3834 and common practice); empty if a person sent it."""
    auto = _header(message, "Auto-Submitted").lower()
    if auto and auto != "no":
        return _("自動送信されたメール（Auto-Submitted: %(value)s）") % {"value": auto[:40]}
    if message.get_content_type() == "multipart/report" or _header(message, "X-Failed-Recipients"):
        return _("配信エラーの通知（配信不能の報告）")
    precedence = _header(message, "Precedence").lower()
    if precedence in ("bulk", "list", "junk", "auto_reply"):
        return _("一斉送信・メーリングリストのメール（Precedence: %(value)s）") % {"value": precedence}
    if _header(message, "List-Id") or _header(message, "List-Unsubscribe"):
        return _("メーリングリストから配信されたメール（List-Id）")
    if any(_header(message, h) for h in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress")):
        return _("自動返信のメール")
    if _header(message, "Return-Path") == "<>":
        return _("差出人のないメール（配信エラーなどの自動送信）")
    if re.match(r"^(mailer-daemon|postmaster)@", sender, re.I):
        return _("配信エラーの通知（差出人 %(sender)s）") % {"sender": sender}
    return ""


def sender_is_automated(address: str) -> bool:
    local = address.rsplit("@", 1)[0] if "@" in address else address
    return bool(AUTOMATED_LOCALPARTS.match(local))


def check_attachment(name: str, content: bytes) -> None:
    """Refuse what staff must not open as it is: too large, executable, macro-enabled, a zip bomb,
    a type not taken."""
    limit = conf.get("CONSULTATIONS_INTAKE_MAX_ATTACHMENT_BYTES")
    suffix = PurePath(name).suffix.lower()
    shown = name[:80] or _("（名前なし）")
    if len(content) > limit:
        raise Refused("too_large", _("添付ファイル「%(name)s」が大きすぎます（%(size).1f MB、上限 %(limit).0f MB）。")
                      % {"name": shown, "size": len(content) / 1024 / 1024, "limit": limit / 1024 / 1024})
    if suffix in EXECUTABLE_SUFFIXES or content[:2] == b"MZ" or content[:4] == b"\x7fELF":
        raise Refused("executable", _("添付ファイル「%(name)s」は実行できるプログラムのため、開かずに保留しました。")
                      % {"name": shown})
    if suffix in MACRO_SUFFIXES:
        raise Refused("macro", _("添付ファイル「%(name)s」はマクロを含む Office ファイルのため、開かずに保留しました。")
                      % {"name": shown})
    if suffix not in conf.get("CONSULTATIONS_INTAKE_ATTACHMENT_TYPES"):
        raise Refused("type", _("添付ファイル「%(name)s」の種類（%(type)s）は受け付けていません。")
                      % {"name": shown, "type": suffix or _("拡張子なし")})
    if suffix in ZIP_OFFICE_SUFFIXES:
        _check_zip(shown, content)
    if suffix == ".doc" and ("_VBA_PROJECT".encode("utf-16-le") in content or b"_VBA_PROJECT" in content):
        raise Refused("macro", _("添付ファイル「%(name)s」はマクロを含む Word ファイルのため、開かずに保留しました。")
                      % {"name": shown})
    magic = {".pdf": (b"%PDF",), ".png": (b"\x89PNG",), ".jpg": (b"\xff\xd8",), ".jpeg": (b"\xff\xd8",),
             ".gif": (b"GIF8",), ".tif": (b"II*\x00", b"MM\x00*"), ".tiff": (b"II*\x00", b"MM\x00*"),
             ".docx": (b"PK",), ".odt": (b"PK",), ".doc": (b"\xd0\xcf\x11\xe0",)}.get(suffix)
    if magic and not content.startswith(magic):
        raise Refused("type", _("添付ファイル「%(name)s」の中身が拡張子（%(type)s）と一致しないため、開かずに保留しました。")
                      % {"name": shown, "type": suffix})


def _check_zip(shown: str, content: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile:
        raise Refused("type", _("添付ファイル「%(name)s」は壊れているため、開けませんでした。") % {"name": shown}) from None
    unpacked = sum(i.file_size for i in infos)
    if len(infos) > ZIP_MAX_ENTRIES or unpacked > ZIP_MAX_UNPACKED or unpacked > ZIP_MAX_RATIO * max(len(content), 1):
        raise Refused("zip_bomb", _("添付ファイル「%(name)s」は展開すると極端に大きくなる（%(size).0f MB）"
                                    "ため、開かずに保留しました。") % {"name": shown, "size": unpacked / 1024 / 1024})
    if any(PurePath(i.filename).name.lower() == "vbaproject.bin" for i in infos):
        raise Refused("macro", _("添付ファイル「%(name)s」はマクロを含む Office ファイルのため、開かずに保留しました。")
                      % {"name": shown})


def received_time(message: Message) -> datetime:
    """When the ward's mail server received it (the newest ``Received:`` header), not the sender's
    own ``Date:``, which any sender may set; the Date header only when no server stamped it."""
    stamps = [str(v).rsplit(";", 1)[-1] for v in (message.get_all("Received") or []) if ";" in str(v)]
    for value in [*stamps[:1], _header(message, "Date")]:
        try:
            moment = email.utils.parsedate_to_datetime(value.strip())
        except (TypeError, ValueError, IndexError):
            continue
        return moment if moment.tzinfo is not None else timezone.make_aware(moment)
    return timezone.now()


def parse(raw: bytes) -> Parsed:
    """Read one message; a problem is kept on `Parsed.problem`, never raised."""
    # compat32: the headers as they are, decoded only where needed (the default policy's header
    # objects cost more than the rest of the intake put together on a large mailbox).
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    raw_name, sender = email.utils.parseaddr(str(message.get("From", "")))
    sender_name = " ".join(decode_words(raw_name).split())
    reply_to = email.utils.parseaddr(str(message.get("Reply-To", "")))[1]
    recipients = [addr.lower() for _, addr in email.utils.getaddresses(
        [str(v) for h in ("To", "Cc", "Delivered-To", "X-Original-To") for v in message.get_all(h, [])]) if addr]
    message_id = _header(message, "Message-ID").strip("<> ")
    received_at = received_time(message)
    parsed = Parsed(raw=raw, message_id=message_id, sender=(reply_to or sender).lower(), sender_name=sender_name,
                    recipients=recipients, subject=_header(message, "Subject"), received_at=received_at, text="")
    parsed.automatic = is_automatic(message, sender.lower())
    defects = [type(d).__name__ for part in message.walk() for d in part.defects]
    if any(d in SERIOUS_DEFECTS for d in defects):
        parsed.problem = Refused("malformed", _("メールの形式（MIME）が壊れているため、本文と添付ファイルを確実に"
                                                "取り出せませんでした（%(defects)s）。原本（.eml）を開いて確認してください。")
                                 % {"defects": ", ".join(sorted(set(defects)))[:120]})
        return parsed
    try:
        plain, html = [], []
        for part in message.walk():
            if part.is_multipart():
                continue
            disposition = part.get_content_disposition()
            filename = part.get_filename()
            filename = decode_words(filename) if filename else filename
            if disposition == "attachment" or filename or part.get_content_maintype() not in ("text",):
                content = payload_bytes(part)
                name = str(filename or _("添付%(number)d") % {"number": len(parsed.attachments) + 1})
                parsed.attachments.append(File(Original.Kind.ATTACHMENT, name, content, part.get_content_type()))
            elif part.get_content_subtype() == "html":
                html.append(decode_part(part))
            else:
                plain.append(decode_part(part))
        text = "\n\n".join(p.strip() for p in plain if p.strip()) or html_to_text("\n".join(html))
        parsed.text = text.replace("\r\n", "\n").strip()
        for attachment in parsed.attachments:
            check_attachment(attachment.name, attachment.content)
    except Refused as exc:
        parsed.problem = exc
    except Exception as exc:  # a part the library cannot decode at all
        parsed.problem = Refused("malformed", _("メールを読み取れませんでした（%(error)s）。原本（.eml）を開いて確認してください。")
                                 % {"error": type(exc).__name__})
    return parsed


# --- turning a message into an entry ---------------------------------------------------------

def is_fax(parsed: Parsed) -> bool:
    addresses = {a.lower() for a in conf.get("CONSULTATIONS_INTAKE_FAX_ADDRESSES")}
    return bool(addresses) and (parsed.sender in addresses or bool(addresses & set(parsed.recipients)))


def incoming(case: Case, raw: bytes) -> Incoming:
    """What one raw message means for the case: its entry, its originals, why it is held."""
    if len(raw) > conf.get("CONSULTATIONS_INTAKE_MAX_MESSAGE_BYTES"):
        parsed = Parsed(raw=raw, message_id="", sender="", sender_name="", recipients=[], subject="",
                        received_at=timezone.now(), text="")
        head = email.message_from_bytes(raw[:64 * 1024].split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0],
                                        policy=email.policy.compat32)
        parsed.message_id = str(head.get("Message-ID", "")).strip("<> ")
        parsed.sender = email.utils.parseaddr(str(head.get("From", "")))[1].lower()
        parsed.problem = Refused("too_large", _("メール全体が大きすぎます（%(size).1f MB）。原本（.eml）を確認してください。")
                                 % {"size": len(raw) / 1024 / 1024})
    else:
        parsed = parse(raw)
    fax = is_fax(parsed) and parsed.problem is None and not parsed.automatic
    key = make_key("mail", case.pk, parsed.message_id or hashlib.sha256(raw).hexdigest())
    item = Incoming(
        case=case, source=Source.FAX if fax else Source.MAIL, channel=Channel.FAX if fax else Channel.EMAIL,
        source_key=key, received_at=parsed.received_at, text=parsed.text, sender=parsed.sender,
        sender_name=parsed.sender_name, subject=parsed.subject, message_id=parsed.message_id,
        fields={"name": parsed.sender_name, "email": "" if fax else parsed.sender},
        files=[File(Original.Kind.MESSAGE, "message.eml", raw, "message/rfc822"), *parsed.attachments],
        external_key=f"mail:{parsed.message_id}" if parsed.message_id else f"mail-sha256:{key[:40]}",
    )
    if parsed.problem is not None:
        item.hold = Hold(parsed.problem.code, parsed.problem.reason)
    elif parsed.automatic:
        item.hold = Hold("automatic", _("%(why)sのため、提出として扱わず保留しました。") % {"why": parsed.automatic})
    elif fax:
        _fax(item, parsed)
    elif not parsed.text and not parsed.attachments:
        item.hold = Hold("empty", _("本文も添付ファイルもないメールです。"))
    elif not parsed.text:
        item.hold = Hold("attachment_only", _("本文がなく添付ファイルだけのメールです。添付ファイルの内容を確認して、"
                                              "意見を入力してください。"))
    else:
        item.reply = not sender_is_automated(parsed.sender)
    return item


def _fax(item: Incoming, parsed: Parsed) -> None:
    """A fax: its images read by OCR, the entry left for staff to confirm beside the image."""
    images = [a for a in parsed.attachments if PurePath(a.name).suffix.lower() in (".pdf", ".tif", ".tiff", ".png",
                                                                                     ".jpg", ".jpeg")]
    item.review = True
    item.text = ""
    if not images:
        item.hold = Hold("empty", _("ファクスのメールに画像（PDF・TIFF）が付いていません。"))
        return
    try:
        result = ocr.read_files([(a.name, a.content) for a in images])
    except ocr.OCRFailed as exc:
        item.hold = Hold("ocr", str(exc))
        return
    item.ocr_text, item.ocr_words, item.ocr_confidence = result.text, result.words, result.confidence
    item.files.extend(File(Original.Kind.PAGE, f"page-{i + 1}.png", png, "image/png")
                      for i, png in enumerate(result.page_images))
    item.pages = f"1-{len(result.page_images)}" if len(result.page_images) > 1 else "1"


# --- mailbox sources -------------------------------------------------------------------------

class Source_(Protocol):
    def messages(self) -> Iterator[tuple[str, bytes]]: ...
    def mark_read(self, key: str) -> None: ...
    def close(self) -> None: ...


class MailboxDown(Exception):
    """The mailbox cannot be read (down, wrong password, no such folder): a Japanese reason."""


class MaildirSource:
    """Unread mail of a Maildir (the layout `mailbox.Maildir` writes and a local MTA delivers):
    ``new/`` and ``cur/`` without the S flag. Marking read is the Maildir protocol's own step, one
    rename to ``cur/`` with ``:2,S`` — the message file itself is never rewritten."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not (self.path / "new").is_dir() or not (self.path / "cur").is_dir():
            raise MailboxDown(_("メールボックス（Maildir）が見つかりません: %(path)s") % {"path": self.path})

    @staticmethod
    def _flags(name: str) -> str:
        info = name.partition(stdlib_mailbox.Maildir.colon)[2]
        return info[2:] if info.startswith("2,") else ""

    def messages(self) -> Iterator[tuple[str, bytes]]:
        for sub in ("new", "cur"):
            for name in sorted(os.listdir(self.path / sub)):
                if name.startswith(".") or "S" in self._flags(name) or "T" in self._flags(name):
                    continue
                try:
                    raw = (self.path / sub / name).read_bytes()
                except (FileNotFoundError, IsADirectoryError):  # taken by another reader meanwhile
                    continue
                yield f"{sub}/{name}", raw

    def mark_read(self, key: str) -> None:
        sub, name = key.split("/", 1)
        base = name.partition(stdlib_mailbox.Maildir.colon)[0]
        flags = "".join(sorted(set(self._flags(name)) | {"S"}))
        try:
            os.replace(self.path / sub / name, self.path / "cur" / f"{base}{stdlib_mailbox.Maildir.colon}2,{flags}")
        except FileNotFoundError:  # another reader marked it first
            pass

    def close(self) -> None:
        pass


class IMAPSource:
    """Unseen mail of an IMAP folder over TLS; fetched with BODY.PEEK (not marked), \\Seen after commit."""

    def __init__(self, url: str, *, context: ssl.SSLContext | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme != "imaps":
            raise MailboxDown(_("IMAP は TLS（imaps://）でのみ接続します。"))
        timeout = conf.get("CONSULTATIONS_INTAKE_IMAP_TIMEOUT_SECONDS")
        try:
            self.conn = imaplib.IMAP4_SSL(parts.hostname or "", parts.port or 993, ssl_context=context,
                                          timeout=timeout)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise MailboxDown(_("メールサーバー（%(host)s）に接続できません: %(error)s")
                              % {"host": parts.hostname, "error": exc}) from None
        try:
            self.conn.login(unquote(parts.username or ""), unquote(parts.password or ""))
        except imaplib.IMAP4.error:
            self._logout()
            raise MailboxDown(_("メールサーバー（%(host)s）にログインできません。ユーザー名とパスワードを"
                                "確認してください。") % {"host": parts.hostname}) from None
        except UnicodeEncodeError:  # IMAP LOGIN takes ASCII only
            self._logout()
            raise MailboxDown(_("メールサーバーのユーザー名とパスワードには、半角の英数字と記号だけを使ってください。")) from None
        folder = unquote(parts.path.lstrip("/")) or "INBOX"
        status, _data = self.conn.select(folder)
        if status != "OK":
            self._logout()
            raise MailboxDown(_("メールボックスのフォルダ「%(folder)s」を開けません。") % {"folder": folder})

    def messages(self) -> Iterator[tuple[str, bytes]]:
        # imaplib skips a None argument (no CHARSET); typeshed types the arguments as str only
        status, data = self.conn.uid("SEARCH", None, "UNSEEN")  # type: ignore[arg-type]
        if status != "OK":
            raise MailboxDown(_("未読のメールを検索できませんでした。"))
        for uid in (data[0] or b"").decode("ascii").split():
            status, parts = self.conn.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((p[1] for p in parts if isinstance(p, tuple)), None) if status == "OK" else None
            if raw is not None:
                yield uid, raw

    def mark_read(self, key: str) -> None:
        self.conn.uid("STORE", key, "+FLAGS", "(\\Seen)")

    def _logout(self) -> None:
        try:
            self.conn.logout()
        except Exception:  # already gone
            pass

    def close(self) -> None:
        self._logout()


def open_source(url: str) -> Source_:
    if url.startswith("imaps://"):
        return IMAPSource(url)
    if url.startswith("maildir://"):
        return MaildirSource(unquote(urlsplit(url).path))
    if url.startswith(("imap://", "pop")):
        raise MailboxDown(_("IMAP は TLS（imaps://）でのみ接続します。"))
    return MaildirSource(url)


def mailbox_url(case: Case) -> tuple[str, bool]:
    """(url, shared): the case's own mailbox, else the shared one."""
    own = conf.get("CONSULTATIONS_INTAKE_MAILBOXES").get(case.slug)
    if own:
        return own, False
    shared = conf.get("CONSULTATIONS_INTAKE_MAILBOX")
    if shared:
        return shared, True
    raise MailboxDown(_("案件「%(slug)s」のメールボックスが設定されていません"
                        "（CONSULTATIONS_INTAKE_MAILBOXES または HIROBA_INTAKE_MAILBOX）。") % {"slug": case.slug})


def addressed_to(case: Case, raw: bytes) -> bool:
    """In a shared box: a message for this case (its address, or the box's address tagged +slug)."""
    head = email.message_from_bytes(raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0], policy=email.policy.compat32)
    values = [str(v) for h in ("To", "Cc", "Delivered-To", "X-Original-To") for v in head.get_all(h, [])]
    addresses = [a.lower() for _, a in email.utils.getaddresses(values) if a]
    own = (case.email_address or "").lower()
    return any(a == own or a.split("@")[0].endswith(f"+{case.slug}") for a in addresses if a)


@dataclass
class Pass:
    new: int = 0
    duplicate: int = 0
    held: list[Outcome] = field(default_factory=list)
    skipped: int = 0  # shared box: messages for other cases, left unread


def read(case: Case, source: Source_, *, shared: bool = False) -> Pass:
    """One pass: every unread message becomes an entry (committed), then it is marked read."""
    result = Pass()
    for key, raw in source.messages():
        if shared and not addressed_to(case, raw):
            result.skipped += 1
            continue
        outcome = take(incoming(case, raw))
        source.mark_read(key)  # only now: the entry is committed
        if outcome.result == NEW:
            result.new += 1
        elif outcome.result == DUPLICATE:
            result.duplicate += 1
        else:
            assert outcome.result == HELD
            result.held.append(outcome)
    return result


def read_case(case: Case, maildir: str | Path | None = None) -> Pass:
    url, shared = (str(maildir), False) if maildir else mailbox_url(case)
    source = open_source(url)
    try:
        return read(case, source, shared=shared)
    finally:
        source.close()
