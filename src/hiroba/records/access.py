"""The records manager's office (文書主管課) and who sees what in the register.

Least privilege as in the security register: a department sees its own register rows,
dispositions and scans (a role on a department covers the departments below it). A role held on
the department named by ``RECORDS_OFFICE_DEPARTMENT`` counts, for records, as that role on every
department (`hiroba.accounts.offices`): that is the records manager. System administrators hold
every role anyway.
"""

from __future__ import annotations

from hiroba.accounts.offices import Office
from hiroba.records import conf

OFFICE = Office("RECORDS_OFFICE_DEPARTMENT", conf.get)
