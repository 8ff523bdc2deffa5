"""Admin pieces for tables with a million rows: no full counts, no DISTINCT scans for filters.

Django's change list counts the whole table twice per page (the paginator, and "N total" beside
the search box) and builds a field's filter from SELECT DISTINCT over the table; at a million
rows each costs more than the page. These replace them with PostgreSQL's own row estimate and
filters whose choices are known without asking the database.
"""

from __future__ import annotations

import re

from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.functional import cached_property

from .models import Connection


def estimated_rows(model, using="default") -> int | None:
    """PostgreSQL's estimate of a table's rows (kept by ANALYZE and autovacuum), or None."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
            [model._meta.db_table],
        )
        row = cursor.fetchone()
    # -1 means the table was never analysed: no estimate.
    return row[0] if row and row[0] >= 0 else None


def estimated_count(model, using="default", *, exact_below: int) -> int | None:
    """The table's row estimate if it is at least `exact_below`, else its exact count; None
    off PostgreSQL. One query either way (the COUNT is an InitPlan, run only when needed), so
    a page costs the same number of queries whatever the table's size."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    table = connection.ops.quote_name(model._meta.db_table)  # a model's own table name
    # The table name is the model's own, never input.
    count = f"SELECT COUNT(*) FROM {table}"  # noqa: S608
    estimate = f"CASE WHEN reltuples >= %s THEN reltuples::bigint ELSE ({count}) END"
    sql = f"SELECT {estimate} FROM pg_class WHERE oid = %s::regclass"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [exact_below, table])
        row = cursor.fetchone()
    return row[0] if row else None


class EstimatedCountPaginator(Paginator):
    """Counts an unfiltered large table by estimate; a filtered or small one exactly.

    A filtered list is usually small and served by an index, and an operator reading "page 3 of
    12" of failed rows wants it exact; the estimate is only for the whole table, where a count
    reads every row. Below EXACT_BELOW rows the exact count is cheap, so it is used.
    """

    EXACT_BELOW = 100_000

    @cached_property
    def count(self):
        queryset = self.object_list
        if isinstance(queryset, QuerySet) and not queryset.query.where:
            count = estimated_count(queryset.model, queryset.db, exact_below=self.EXACT_BELOW)
            if count is not None:
                return count
        return super().count


UUID_TERM = re.compile(r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$", re.I)


class LargeTableAdmin(admin.ModelAdmin):
    """For tables that grow with customers' spend: estimated counts, no "N total" count, and
    a pasted id searched by the id fields alone."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 50

    def get_search_results(self, request, queryset, search_term):
        # Words are matched anywhere in several columns, which reads every row; a pasted
        # uuid is an index lookup, unless it is OR'ed with those scans. So a uuid searches
        # the exact ("=") fields only.
        request._search_ids_only = bool(UUID_TERM.match(search_term.strip()))
        return super().get_search_results(request, queryset, search_term)

    def get_search_fields(self, request):
        fields = super().get_search_fields(request)
        if getattr(request, "_search_ids_only", False):
            # "=field" means iexact, UPPER(id::text) = UPPER(...), which no index serves;
            # "field__exact" compares the column itself.
            # Only indexed columns: one unindexed column in the OR makes it a scan again.
            exact = [
                f"{f[1:]}__exact"
                for f in fields
                if f.startswith("=") and _indexed(self.model, f[1:])
            ]
            return exact or fields
        return fields


def _indexed(model, path: str) -> bool:
    # A related row's primary key ("transaction__id") is the indexed foreign key column.
    field = get_fields_from_path(model, path)[-1]
    return bool(field.primary_key or field.unique or field.db_index)


class PlatformFilter(admin.SimpleListFilter):
    """Rows of companies on one accounting platform (their live or last accounting connection).

    The choices are the platforms the portal supports, so listing them costs no query; the
    filter is an EXISTS on the company's connections, so it never multiplies rows.
    """

    title = "platform"
    parameter_name = "platform"
    company_field = "company"  # the path from the listed model to its company's primary key

    def lookups(self, request, model_admin):
        from integrations.syncs.services.platforms import PLATFORMS

        return sorted(((key, p.name) for key, p in PLATFORMS.items()), key=lambda kv: kv[1])

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        on_platform = Connection.objects.filter(
            company=OuterRef(self.company_field),
            source_type=Connection.SourceType.ACCOUNTING,
            platform_key=self.value(),
        )
        return queryset.filter(Exists(on_platform))


def platform_filter(company_field: str) -> type[PlatformFilter]:
    """A PlatformFilter for a model that reaches its company through `company_field`."""
    return type(
        "PlatformFilter",
        (PlatformFilter,),
        {"company_field": company_field, "__module__": __name__},
    )


def choices_filter(field: str, title: str, choices) -> type[admin.SimpleListFilter]:
    """A filter on `field` with known choices (a list, or a function returning one), so
    listing them needs no SELECT DISTINCT over the table."""

    def lookups(self, request, model_admin):
        return list(choices() if callable(choices) else choices)

    def queryset(self, request, queryset):
        return queryset.filter(**{field: self.value()}) if self.value() else queryset

    return type(
        f"{field.title()}Filter",
        (admin.SimpleListFilter,),
        {
            "title": title,
            "parameter_name": field,
            "lookups": lookups,
            "queryset": queryset,
            "__module__": __name__,
        },
    )
