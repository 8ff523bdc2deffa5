"""Where a company stands in onboarding, computed in one place from what is stored.

The checklist on the overview page, the locks on later steps and the home page all read this
module. (The onboarding helper fills in the whole checklist; `ledger_ready` is the lock the
mapping pages share.)
"""

from integrations.companies.models import Company, Connection
from integrations.ledger.models import LedgerRead


def ledger_ready(company: Company) -> bool:
    """True once the company's ledger has been read at least once since it was linked: the
    mapping steps need its accounts, tax rates and contacts, so they stay locked until then."""
    linked = company.connections.filter(
        source_type=Connection.SourceType.ACCOUNTING, status=Connection.Status.LINKED
    ).exists()
    return linked and company.ledger_reads.filter(status=LedgerRead.Status.DONE).exists()
