"""Template helpers shared by every page of the portal (and the staff pages)."""

from django import template
from django.utils import timezone
from django.utils.html import format_html

register = template.Library()

# One tone per meaning, whatever model the status comes from, so "needs attention" looks the
# same on a transaction, a mapping and a company. Unknown values fall back to neutral.
TONES = {
    # good: done, nothing to do
    "ok": "good",
    "in_ledger": "good",
    "completed": "good",
    "linked": "good",
    "uploaded": "good",
    "success": "good",
    "mapped": "good",
    # an operator settled it by hand: final, nothing left for the customer to do
    "handled_outside": "good",
    "handled": "good",
    # moving: the portal or Codat is working on it
    "syncing": "moving",
    "queued": "moving",
    "pushing": "moving",
    "uploading": "moving",
    "pending": "moving",
    "reading": "moving",
    # ready: waiting for the next sync, nothing wrong
    "ready": "ready",
    # attention: a person must act
    "needs_attention": "attention",
    "needs_auth": "attention",
    "receipt_missing": "attention",
    "unmapped": "attention",
    "pendingauth": "attention",
    "deauthorized": "attention",
    "archived": "attention",
    # bad: it failed
    "failed": "bad",
    "failing": "bad",
    "rejected": "bad",
    "timedout": "bad",
    # quiet: nothing has happened yet
    "draft": "quiet",
    "never_synced": "quiet",
    "unlinked": "quiet",
}


def tone(value) -> str:
    return TONES.get(str(value).lower(), "quiet")


@register.simple_tag
def pill(status, label=None, title=None):
    """`{% pill txn.plain_status %}`: a TextChoices member (or value and label) as a pill."""
    value = getattr(status, "value", status)
    text = label if label is not None else getattr(status, "label", str(value))
    if title:
        return format_html(
            '<span class="pill tone-{}" title="{}">{}</span>', tone(value), title, text
        )
    return format_html('<span class="pill tone-{}">{}</span>', tone(value), text)


@register.filter
def tone_of(value) -> str:
    return tone(getattr(value, "value", value))


# Largest unit first; a month is 30 days, as Django's timesince counts it.
_UNITS = (
    (365 * 86400, "year"),
    (30 * 86400, "month"),
    (7 * 86400, "week"),
    (86400, "day"),
    (3600, "hour"),
    (60, "minute"),
)


@register.filter
def age(value):
    """How long ago, in the largest unit only ("2 months"), for tight spaces.

    Django's timesince is ten times dearer (translations, two units), and a list page calls
    this several times a row.
    """
    if not value:
        return "\u2013"
    seconds = (timezone.now() - value).total_seconds()
    for size, name in _UNITS:
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {name}{'' if n == 1 else 's'}"
    return "0 minutes"


@register.filter
def ago(value):
    """ "3 hours ago", or "just now" under a minute (never "0 minutes ago")."""
    if not value:
        return "never"
    words = age(value)
    return "just now" if words == "0 minutes" else f"{words} ago"
