"""Staff page helpers: a status code as a link to its legend row."""

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.timesince import timesince

from integrations.portal.templatetags.portal import tone
from integrations.syncs.codes import describe

register = template.Library()


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
        reverse("staff:legend"),
        info.anchor,
        info.meaning,
        info.label,
    )


@register.filter
def age(value):
    """How long ago, to the largest unit only ("2 months"), for tight spaces."""
    return timesince(value, depth=1) if value else "\u2013"


@register.filter
def percent(value):
    if value is None:
        return "\u2013"
    return f"{value * 100:.1f}%"
