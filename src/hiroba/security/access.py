"""The CISO office (情報システム課) and who sees what in the security register.

Least privilege as in the rest of hiroba: a department sees its own systems, findings,
incidents and actions (a role on a department covers the departments below it). The CISO
office sees all of them: a role held on the department named by ``SECURITY_OFFICE_DEPARTMENT``
(code ``joho-system``) counts, for security records, as that role on every department
(`hiroba.accounts.offices`). System administrators hold every role anyway.
"""

from __future__ import annotations

from hiroba.accounts.offices import Office
from hiroba.security import conf

OFFICE = Office("SECURITY_OFFICE_DEPARTMENT", conf.get)
