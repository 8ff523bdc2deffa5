"""Where a company stands in onboarding, computed in one place from what is stored.

The checklist on the overview page, the locks on later steps and the home page all read this
module; nothing else decides whether a step is done.

    from integrations.portal import onboarding

    onboarding.steps(company)      # [Step, ...] in order: connect, accounts, categories,
                                   #   review, automatic_sync
    onboarding.progress(company)   # Progress: .steps, .done, .total, .current (Step or None),
                                   #   .complete, .left (the steps not done yet)

Each `Step` has `key`, `number`, `title`, `summary` (one plain sentence about where it stands),
`url` (the page that does it) and `state`, one of:

- "done": what the step asks for is stored (the connection is linked, the mappings resolve,
  the review was confirmed, the automatic sync was chosen);
- "current": the first step not done: where the user stopped, and where the overview sends them;
- "todo": not done, open, but after the current one;
- "locked": cannot be done yet (no linked ledger, or its first read is not in).

Because everything is derived from stored state (the connection, the cached ledger, the
mappings and two timestamps on the company), the checklist "remembers" where a person stopped
without storing a position, and a mapping that breaks later (an account archived in the ledger)
turns its step back from done.

Cost: about eight queries per company, whatever the number of categories and cards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.urls import reverse

from integrations.companies.models import Company, Connection
from integrations.ledger import resolve
from integrations.ledger.models import LedgerRead

DONE = "done"
CURRENT = "current"
TODO = "todo"
LOCKED = "locked"

# Which mapping page fixes each kind of problem `resolve` reports.
SCREEN_ROUTES = {
    resolve.Screen.CONNECTION: "portal:connection",
    resolve.Screen.CATEGORIES: "portal:categories",
    resolve.Screen.CARDS: "portal:accounts",
    resolve.Screen.DEFAULTS: "portal:accounts",
}
ACCOUNT_SCREENS = (resolve.Screen.CARDS, resolve.Screen.DEFAULTS)


@dataclass(frozen=True)
class Step:
    key: str
    number: int
    title: str
    summary: str
    url: str
    state: str

    @property
    def is_done(self) -> bool:
        return self.state == DONE

    @property
    def is_current(self) -> bool:
        return self.state == CURRENT

    @property
    def is_locked(self) -> bool:
        return self.state == LOCKED


@dataclass(frozen=True)
class Progress:
    steps: list[Step]
    done: int
    total: int
    current: Step | None
    left: list[Step] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.done == self.total


@dataclass(frozen=True)
class Missing:
    """One thing that stops spend landing, with the page that fixes it."""

    subject: str
    message: str
    url: str
    anchor_url: str


def ledger_ready(company: Company) -> bool:
    """True once the company's ledger has been read at least once since it was linked: the
    mapping steps need its accounts, tax rates and contacts, so they stay locked until then."""
    linked = company.connections.filter(
        source_type=Connection.SourceType.ACCOUNTING, status=Connection.Status.LINKED
    ).exists()
    return linked and company.ledger_reads.filter(status=LedgerRead.Status.DONE).exists()


def ledger_read_in_progress(company: Company) -> LedgerRead | None:
    """The read the overview's "fetching your ledger" box follows: the open one, else the
    latest (so a failed first read is shown with its error rather than silently)."""
    return company.ledger_reads.order_by("-created_at", "-pk").first()


def missing(company: Company) -> list[Missing]:
    """Everything that stops spend landing, each with the page (and row) that fixes it."""
    found = []
    for subject, problem in resolve.mappings_needing_attention(company):
        url = reverse(SCREEN_ROUTES[problem.screen], args=[company.pk])
        found.append(
            Missing(
                subject=_subject(subject),
                message=problem.message,
                url=url,
                anchor_url=url + _anchor(subject),
            )
        )
    return found


def _subject(obj) -> str:
    name = type(obj).__name__
    if name == "ExpenseCategory":
        return f"Category “{obj}”"
    if name == "Card":
        return f"Card “{obj}”"
    return "Defaults"


def _anchor(obj) -> str:
    # Where the mapping pages show the thing: a category's row (searched for by its code, so
    # it is on the first page whatever the list's length), the cards table, the defaults.
    name = type(obj).__name__
    if name == "ExpenseCategory":
        return f"?{urlencode({'q': obj.code})}#cat-{obj.pk}"
    if name == "Card":
        return "#cards-title"
    return "#defaults-title"


def steps(company: Company) -> list[Step]:
    """The five onboarding steps of `company`, in order, each with its state (see the module
    docstring)."""
    connection = company.accounting_connection()
    linked = connection is not None and connection.status == Connection.Status.LINKED
    ready = linked and company.ledger_reads.filter(status=LedgerRead.Status.DONE).exists()
    problems = [p for _, p in resolve.mappings_needing_attention(company)] if ready else []
    account_problems = [p for p in problems if p.screen in ACCOUNT_SCREENS]
    category_problems = [p for p in problems if p.screen == resolve.Screen.CATEGORIES]

    def url(name):
        return reverse(name, args=[company.pk])

    # (key, title, done, open, summary, url)
    if linked:
        platform = connection.platform_name or connection.platform_key
        connect_summary = f"{platform} is connected."
        connect_url = url("portal:connection")
    elif connection is not None and connection.status == Connection.Status.DEAUTHORIZED:
        connect_summary = "Access to your ledger was withdrawn: authorise it again."
        connect_url = url("portal:connection")
    elif connection is not None and connection.status == Connection.Status.PENDING_AUTH:
        platform = connection.platform_name or connection.platform_key
        connect_summary = f"Waiting for you to authorise {platform}."
        connect_url = url("portal:connect")
    else:
        connect_summary = "Choose your accounting software and authorise access."
        connect_url = url("portal:connect")

    waiting = "Unlocks once your accounting software is connected and its ledger is fetched."
    if linked and not ready:
        waiting = "Unlocks as soon as your ledger has been fetched."

    def mapping_summary(found, done_words):
        if not ready:
            return waiting
        if not found:
            return done_words
        return f"{len(found)} to fix: {found[0].message}"

    rows = [
        ("connect", "Connect your accounting software", linked, True, connect_summary, connect_url),
        (
            "accounts",
            "Accounts and contacts",
            ready and not account_problems,
            ready,
            mapping_summary(account_problems, "Cards, default bank account and contacts are set."),
            url("portal:accounts"),
        ),
        (
            "categories",
            "Categories",
            ready and not category_problems,
            ready,
            mapping_summary(category_problems, "Every category lands on an account."),
            url("portal:categories"),
        ),
        (
            "review",
            "Review",
            ready and company.onboarding_reviewed_at is not None,
            ready,
            "Reviewed."
            if company.onboarding_reviewed_at
            else "Check what is mapped; try a test post."
            if ready
            else waiting,
            url("portal:review"),
        ),
        (
            "automatic_sync",
            "Automatic sync",
            linked and company.auto_sync_chosen_at is not None,
            linked,
            _auto_sync_summary(company) if linked else waiting,
            url("portal:automatic-sync"),
        ),
    ]
    result = []
    current_found = False
    for number, (key, title, done, is_open, summary, step_url) in enumerate(rows, start=1):
        if done:
            state = DONE
        elif not is_open:
            state = LOCKED
        elif not current_found:
            state = CURRENT
            current_found = True
        else:
            state = TODO
        result.append(Step(key, number, title, summary, step_url, state))
    return result


def _auto_sync_summary(company: Company) -> str:
    if not company.auto_sync_enabled:
        return "Off: spend goes to the ledger only when you press Sync now."
    return f"On, {interval_words(company.auto_sync_interval_minutes)}."


def interval_words(minutes: int) -> str:
    if minutes % 1440 == 0:
        days = minutes // 1440
        return "once a day" if days == 1 else f"every {days} days"
    if minutes % 60 == 0:
        hours = minutes // 60
        return "every hour" if hours == 1 else f"every {hours} hours"
    return "every minute" if minutes == 1 else f"every {minutes} minutes"


def progress(company: Company) -> Progress:
    """The checklist summed up: how many steps are done, and the one to do next."""
    all_steps = steps(company)
    done = sum(step.is_done for step in all_steps)
    current = next((step for step in all_steps if step.is_current), None)
    return Progress(
        steps=all_steps,
        done=done,
        total=len(all_steps),
        current=current,
        left=[step for step in all_steps if not step.is_done],
    )
