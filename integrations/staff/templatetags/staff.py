"""Staff page helpers: a status code as a link to its legend row."""

import functools

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from integrations.portal.templatetags.portal import tone
from integrations.syncs.codes import describe

register = template.Library()


@functools.cache
def _legend_url() -> str:
    # Called twice a row on the triage list; the URLconf does not change while running.
    return reverse("staff:legend")


@register.simple_tag
def status_code(code, refused=False):
    """`{% status_code sync.status_code %}`: the code, coloured by meaning, linked to the legend.

    A sync with no code is either waiting for Codat or was refused (`refused=True`).
    """
    if code in (None, "") and not refused:
        return format_html('<span class="muted">\u2013</span>')
    info = describe(None if code in (None, "") else int(code))
    return format_html(
        '<a class="code pill tone-{}" href="{}#{}" title="{}">{}</a>',
        tone(info.tone),
        _legend_url(),
        info.anchor,
        info.meaning,
        info.label,
    )


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
    this three times a row.
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
def percent(value):
    if value is None:
        return "\u2013"
    return f"{value * 100:.1f}%"
