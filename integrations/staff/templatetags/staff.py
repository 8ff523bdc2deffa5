"""Staff page helpers: a status code as a link to its legend row."""

import functools

from django import template
from django.urls import reverse
from django.utils.html import format_html

from integrations.portal.templatetags.portal import age, tone
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


# "2 hours" in the staff lists: one filter with the portal's "2 hours ago".
register.filter("age", age)


@register.filter
def percent(value):
    if value is None:
        return "\u2013"
    return f"{value * 100:.1f}%"
