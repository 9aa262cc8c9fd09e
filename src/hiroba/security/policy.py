"""情報セキュリティポリシー: versioned documents and staff acknowledgements (誓約)."""

from __future__ import annotations

from datetime import date

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from hiroba.core import audit
from hiroba.core.actors import Actor, ActorLike
from hiroba.core.errors import NotAllowed, ServiceError
from hiroba.security import audit_actions as actions
from hiroba.security.models import Acknowledgement, PolicyDocument, PolicyVersion
from hiroba.security.services import who


@transaction.atomic
def policy_publish(*, actor: ActorLike, title: str, kind: str, version: str, effective_on: date, summary: str = "",
                   body: str = "", file: UploadedFile | None = None, requires_acknowledgement: bool = True
                   ) -> PolicyVersion:
    """Register a new version of a document (the document is created with its first version).
    Versions are immutable: a revision is always a new version."""
    a = Actor.of(actor)
    if a.user is not None and not a.user.has_perm("security.manage_register"):
        raise NotAllowed(_("ポリシーの登録は情報システム課（CISO事務局）が行います。"))
    if not title.strip() or not version.strip():
        raise ServiceError(_("文書名と版を入力してください。"), code="incomplete")
    document, _created = PolicyDocument.objects.get_or_create(
        title=title.strip(), defaults={"kind": kind, "requires_acknowledgement": requires_acknowledgement})
    if document.versions.filter(version=version.strip()).exists():
        raise ServiceError(_("同じ版が登録されています。"), code="version_exists", field="version")
    row = PolicyVersion(document=document, version=version.strip(), effective_on=effective_on, summary=summary.strip(),
                        body=body, published_by=a.user)
    if file is not None:
        row.file.save(file.name or "policy", file, save=False)
    row.save()
    audit.record(actor=who(actor), action=actions.POLICY_PUBLISH, obj=row,
                 changes={"document": document.title, "version": row.version, "effective_on": effective_on})
    return row


@transaction.atomic
def policy_acknowledge(*, actor: ActorLike, version: PolicyVersion) -> Acknowledgement:
    """誓約: the signed-in staff member has read the version and will follow it (once)."""
    a = Actor.of(actor)
    if a.user is None or not a.is_staff:
        raise NotAllowed(_("誓約は職員本人が行います。"))
    try:
        with transaction.atomic():
            ack = Acknowledgement.objects.create(version=version, user=a.user)
    except IntegrityError:
        raise ServiceError(_("この版には誓約済みです。"), code="already") from None
    audit.record(actor=a.user, action=actions.POLICY_ACKNOWLEDGE, obj=version,
                 changes={"document": version.document.title, "version": version.version})
    return ack
