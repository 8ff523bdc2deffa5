from django.contrib import admin
from django.db.models import OuterRef, Subquery

from .admin_scale import LargeTableAdmin, choices_filter, platform_filter
from .models import AuditEvent, Company, Connection, Invitation, Membership


class AuditedModelAdmin(admin.ModelAdmin):
    """An admin whose every add, change and delete leaves an AuditEvent naming the operator.

    Operators fix customers' data by hand here, so the trail must show who changed which field
    from what to what, the same as a change made in the portal.
    """

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        fields = [name for name in form.changed_data if name in form.cleaned_data]
        AuditEvent.record(
            request.user,
            "admin.change" if change else "admin.add",
            obj=obj,
            company=self.audit_company(obj),
            before={name: form.initial.get(name) for name in fields} if change else {},
            after={name: form.cleaned_data[name] for name in fields},
        )

    def save_formset(self, request, form, formset, change):
        deleted = [f.instance for f in formset.deleted_forms if f.instance.pk]
        for obj in deleted:
            self._record_delete(request, obj)
        edited = [
            (f, f.instance.pk is not None)
            for f in formset.forms
            if f.has_changed() and f not in formset.deleted_forms
        ]
        super().save_formset(request, form, formset, change)
        for inline_form, existed in edited:
            fields = [n for n in inline_form.changed_data if n in inline_form.cleaned_data]
            AuditEvent.record(
                request.user,
                "admin.change" if existed else "admin.add",
                obj=inline_form.instance,
                company=self.audit_company(inline_form.instance),
                before={n: inline_form.initial.get(n) for n in fields} if existed else {},
                after={n: inline_form.cleaned_data[n] for n in fields},
            )

    def delete_model(self, request, obj):
        self._record_delete(request, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self._record_delete(request, obj)
        super().delete_queryset(request, queryset)

    def _record_delete(self, request, obj):
        company = self.audit_company(obj)
        # The company itself is about to go; pointing at it would only be nulled again.
        AuditEvent.record(
            request.user,
            "admin.delete",
            obj=obj,
            company=None if isinstance(obj, Company) else company,
        )

    def audit_company(self, obj):
        if isinstance(obj, Company):
            return obj
        return getattr(obj, "company", None)


class ReadOnlyAdmin(admin.ModelAdmin):
    """History rows: operators read them, the workers alone write them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


class ConnectionInline(admin.TabularInline):
    model = Connection
    extra = 0
    fields = ["platform_name", "platform_key", "source_type", "status", "last_sync_at"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Company)
class CompanyAdmin(AuditedModelAdmin):
    list_display = [
        "name",
        "platform_display",
        "connection_display",
        "health_display",
        "codat_company_id",
        "auto_sync_enabled",
        "auto_synced_at",
        "created_at",
    ]
    list_filter = [
        platform_filter("pk"),
        choices_filter("accounting_status", "accounting connection", Connection.Status.choices),
        "auto_sync_enabled",
    ]
    search_fields = ["name", "=codat_company_id", "=partner_reference"]
    show_full_result_count = False
    list_per_page = 50
    readonly_fields = ["auto_synced_at", "auto_sync_due_at"]
    inlines = [MembershipInline, ConnectionInline]

    def get_queryset(self, request):
        accounting = Connection.objects.filter(
            company=OuterRef("pk"), source_type=Connection.SourceType.ACCOUNTING
        ).order_by("-created_at", "-pk")
        return (
            super()
            .get_queryset(request)
            .with_health()
            .annotate(platform_name=Subquery(accounting.values("platform_name")[:1]))
        )

    @admin.display(description="Platform")
    def platform_display(self, obj):
        return obj.platform_name or "—"

    @admin.display(description="Connection", ordering="accounting_status")
    def connection_display(self, obj):
        if not obj.accounting_status:
            return "Not connected"
        return Connection.Status(obj.accounting_status).label

    @admin.display(description="Health")
    def health_display(self, obj):
        return obj.health.label


@admin.register(Membership)
class MembershipAdmin(AuditedModelAdmin):
    list_display = ["user", "company", "role", "created_at"]
    list_filter = ["role"]
    list_select_related = ["user", "company"]
    search_fields = ["user__username", "user__email", "company__name"]
    raw_id_fields = ["user"]
    autocomplete_fields = ["company"]


@admin.register(Connection)
class ConnectionAdmin(AuditedModelAdmin):
    list_display = [
        "company",
        "platform_display",
        "source_type",
        "status",
        "last_sync_at",
        "codat_connection_id",
    ]
    list_filter = ["status", "source_type", "platform_key"]
    list_select_related = ["company"]
    search_fields = ["company__name", "codat_connection_id", "platform_name", "platform_key"]
    autocomplete_fields = ["company"]
    readonly_fields = ["created_at", "updated_at"]

    @admin.display(description="Platform", ordering="platform_name")
    def platform_display(self, obj):
        if not obj.platform_name:
            return obj.platform_key
        return f"{obj.platform_name} ({obj.platform_key})"


@admin.register(AuditEvent)
class AuditEventAdmin(LargeTableAdmin, ReadOnlyAdmin):
    list_display = ["at", "actor_display", "company", "action", "object_label", "fields_changed"]
    list_filter = ["action", "content_type"]
    list_select_related = ["company", "actor"]
    search_fields = ["=object_id", "actor_label", "object_label", "action", "company__name"]

    @admin.display(description="Who", ordering="actor_label")
    def actor_display(self, obj):
        return obj.actor_label or "system"

    @admin.display(description="Fields")
    def fields_changed(self, obj):
        return ", ".join(obj.changes) or "—"


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    # Invitations are made by owners in the portal (the email carries the only copy of the
    # token); operators see who was invited and whether the link was used.
    list_display = ["email", "company", "role", "invited_by", "created_at", "accepted_at"]
    list_filter = ["role"]
    search_fields = ["email", "company__name"]
    list_select_related = ["company", "invited_by"]
    raw_id_fields = ["company", "invited_by", "accepted_by"]
    exclude = ["token_hash"]
