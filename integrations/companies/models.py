from decimal import Decimal
from uuid import UUID

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.functional import cached_property


class CompanyQuerySet(models.QuerySet):
    def for_user(self, user):
        """The companies `user` belongs to; every company-scoped view starts here."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(memberships__user=user)

    def with_health(self):
        """Annotate what `Company.health` needs, so a list of companies costs one query."""
        Sync = apps.get_model("syncs", "Sync")
        accounting = Connection.objects.filter(
            company=OuterRef("pk"), source_type=Connection.SourceType.ACCOUNTING
        ).order_by("-created_at", "-pk")
        latest_sync = Sync.objects.filter(company=OuterRef("pk")).order_by("-requested_at", "-pk")
        return self.annotate(
            accounting_status=Subquery(accounting.values("status")[:1]),
            latest_sync_pk=Subquery(latest_sync.values("pk")[:1]),
            latest_sync_code=Subquery(latest_sync.values("status_code")[:1]),
            latest_sync_send_state=Subquery(latest_sync.values("send_state")[:1]),
        )


class Company(models.Model):
    """One SMB customer of the partner: the tenant every other row hangs from."""

    class Health(models.TextChoices):
        OK = "ok", "OK"
        SYNCING = "syncing", "Syncing"
        FAILING = "failing", "Failing"
        NEEDS_AUTH = "needs_auth", "Needs authorisation"
        NEVER_SYNCED = "never_synced", "Never synced"

    name = models.CharField(max_length=200)
    # The partner's own id for this customer, set through the partner API; null (not "") when
    # unset so that only real references are held unique.
    partner_reference = models.CharField(
        max_length=100, unique=True, null=True, blank=True, default=None
    )
    # Null until the company has been created at Codat; the portal creates it lazily, on first
    # connect, so a failed Codat call never leaves a half-made tenant behind.
    codat_company_id = models.UUIDField(unique=True, null=True, blank=True)
    # The automatic sync: beat checks and pushes the company's ready spend every interval.
    auto_sync_enabled = models.BooleanField(
        "automatic sync", default=True, help_text="Send ready spend to the ledger on a schedule."
    )
    auto_sync_interval_minutes = models.PositiveIntegerField(
        "automatic sync interval (minutes)",
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(7 * 24 * 60)],
    )
    # When the next automatic run is due (null: at the next beat). Stored rather than derived
    # from the last run so "who is due" is one indexed range scan, and moved forward by the
    # conditional UPDATE that claims a run, so two beats never start the same one twice.
    auto_sync_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    auto_synced_at = models.DateTimeField(
        "last automatic sync", null=True, blank=True, editable=False
    )
    # Onboarding (integrations/portal/onboarding.py): the two steps whose "done" is a person's
    # decision rather than a state of the ledger or the mappings. When someone confirmed the
    # review, and when someone chose the automatic sync's setting.
    onboarding_reviewed_at = models.DateTimeField(null=True, blank=True, editable=False)
    auto_sync_chosen_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    objects = CompanyQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        verbose_name_plural = "companies"
        indexes = [
            # The automatic-sync beat: enabled companies whose next run is due, soonest first.
            models.Index(
                fields=["auto_sync_due_at"],
                condition=Q(auto_sync_enabled=True),
                name="company_auto_sync_due",
            ),
        ]

    def __str__(self):
        return self.name

    @staticmethod
    def health_from(accounting_status, latest_sync_pk, latest_sync_code, latest_sync_send_state=""):
        """The one definition of a company's health; every page, the admin and the workers ask it.

        Authorisation comes first: a company whose ledger we cannot reach is not helped by
        hearing its last sync failed. After that the most recent sync decides, so a failure
        stops showing as soon as a newer sync has been started.
        """
        if accounting_status != Connection.Status.LINKED:
            return Company.Health.NEEDS_AUTH
        if latest_sync_pk is None:
            return Company.Health.NEVER_SYNCED
        Sync = apps.get_model("syncs", "Sync")
        if latest_sync_send_state == Sync.SendState.REJECTED:
            # Codat refused the request outright (a 400): nothing is syncing, and the
            # transactions it carried failed.
            return Company.Health.FAILING
        if not Sync.code_is_terminal(latest_sync_code):
            return Company.Health.SYNCING
        if Sync.code_is_success(latest_sync_code):
            return Company.Health.OK
        return Company.Health.FAILING

    def get_health(self):
        if hasattr(self, "latest_sync_code"):  # annotated by CompanyQuerySet.with_health()
            return self.health_from(
                self.accounting_status,
                self.latest_sync_pk,
                self.latest_sync_code,
                self.latest_sync_send_state,
            )
        connection = self.accounting_connection()
        latest = self.syncs.order_by("-requested_at", "-pk").first()
        return self.health_from(
            connection.status if connection else None,
            latest.pk if latest else None,
            latest.status_code if latest else None,
            latest.send_state if latest else "",
        )

    @cached_property
    def health(self):
        return self.Health(self.get_health())

    def accounting_connection(self):
        """The newest accounting connection, whatever its state (a company has only one ledger)."""
        return (
            self.connections.filter(source_type=Connection.SourceType.ACCOUNTING)
            .order_by("-created_at", "-pk")
            .first()
        )


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MEMBER = "member", "Member"
        ACCOUNTANT = "accountant", "Accountant"
        VIEWER = "viewer", "Viewer"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role, default=Role.MEMBER)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "company"],
                name="membership_unique_user_company",
                violation_error_message="This user is already a member of this company.",
            ),
        ]

    def __str__(self):
        return f"{self.user} at {self.company} ({self.get_role_display()})"

    # What each role may do, in one place: the access helper (`integrations.portal.access`),
    # the templates (to hide what would be refused) and the partner API all read this table.
    # Viewers see everything and change nothing; accountants map and fix but do not connect,
    # unlink or manage the team; members do all but manage the team.
    class Capability(models.TextChoices):
        VIEW = "view", "See the company"
        MAP = "map", "Map, fix and sync"
        CONNECT = "connect", "Connect and unlink the accounting software"
        TEAM = "team", "Invite and remove people"

    CAPABILITIES = {
        Role.OWNER: frozenset(Capability),
        Role.MEMBER: frozenset({Capability.VIEW, Capability.MAP, Capability.CONNECT}),
        Role.ACCOUNTANT: frozenset({Capability.VIEW, Capability.MAP}),
        Role.VIEWER: frozenset({Capability.VIEW}),
    }

    # What each role means, in the words the team page and the invitation show.
    ROLE_DESCRIPTIONS = {
        Role.OWNER: "Everything, including inviting and removing people and changing roles.",
        Role.MEMBER: "Connects the accounting software, maps categories and syncs spend.",
        Role.ACCOUNTANT: "Maps categories, fixes and syncs spend; cannot connect, unlink or "
        "manage the team.",
        Role.VIEWER: "Sees everything and changes nothing.",
    }

    @property
    def role_description(self):
        return self.ROLE_DESCRIPTIONS.get(self.role, "")

    def can(self, capability) -> bool:
        return capability in self.CAPABILITIES.get(self.role, ())

    @property
    def can_edit(self):
        return self.can(self.Capability.MAP)

    @property
    def can_connect(self):
        return self.can(self.Capability.CONNECT)

    @property
    def can_manage_team(self):
        return self.can(self.Capability.TEAM)


class Invitation(models.Model):
    """An owner's invitation of a teammate or accountant, by email, with a role.

    Only a hash of the token is stored, so a database read does not hand out working links;
    the link is single-use (accepted_at set by a conditional UPDATE) and expires.
    """

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Membership.Role, default=Membership.Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The team page: a company's invitations, newest first.
            models.Index(fields=["company", "-created_at"], name="invitation_company_recent"),
        ]

    def __str__(self):
        return f"{self.email} to {self.company} as {self.get_role_display()}"

    @property
    def is_open(self):
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and self.expires_at > timezone.now()
        )


class Connection(models.Model):
    """A Codat data connection: the company's accounting software, or the partner's expenses."""

    # Codat's own enum strings are the stored values, so a client response parses with
    # `Connection.Status(payload["status"])` and an unknown value fails loudly.
    class SourceType(models.TextChoices):
        ACCOUNTING = "Accounting", "Accounting"
        EXPENSE = "Expense", "Expense"

    class Status(models.TextChoices):
        PENDING_AUTH = "PendingAuth", "Pending authorisation"
        LINKED = "Linked", "Linked"
        UNLINKED = "Unlinked", "Unlinked"
        DEAUTHORIZED = "Deauthorized", "Deauthorised"

    ACTIVE_STATUSES = (Status.PENDING_AUTH, Status.LINKED)

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="connections")
    codat_connection_id = models.UUIDField(unique=True)
    platform_key = models.CharField(
        max_length=4, blank=True, help_text="Codat's four-letter key, e.g. qhyg"
    )
    platform_name = models.CharField(max_length=100, blank=True)
    source_type = models.CharField(max_length=16, choices=SourceType)
    status = models.CharField(max_length=16, choices=Status, default=Status.PENDING_AUTH)
    link_url = models.URLField(max_length=1000, blank=True)
    last_sync_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Codat's partner-expense connection has no platform (no integrationKey), so only
            # an accounting connection must name one.
            models.CheckConstraint(
                condition=Q(platform_key__regex=r"^[a-z]{4}$")
                | Q(platform_key="", source_type="Expense"),
                name="connection_platform_key_four_lowercase_letters",
                violation_error_message="A platform key is exactly four lowercase letters.",
            ),
            # Codat allows one accounting connection per company (a new ledger means a new
            # company) and the portal keeps one partner-expense connection. Unlinked and
            # deauthorised ones stay as history, so only the live states are unique.
            models.UniqueConstraint(
                fields=["company", "source_type"],
                condition=Q(status__in=["PendingAuth", "Linked"]),
                name="connection_one_active_per_company_and_source",
                violation_error_message="This company already has a live connection of that type.",
            ),
        ]

    def __str__(self):
        label = self.platform_name or self.platform_key
        return f"{self.company}: {label} ({self.get_status_display()})"

    @property
    def is_active(self):
        return self.status in self.ACTIVE_STATUSES

    @property
    def needs_auth(self):
        return self.status != self.Status.LINKED


def _audit_value(value):
    """Reduce a field value to JSON: related objects by primary key, files by name."""
    if isinstance(value, models.Model):
        return _audit_value(value.pk)
    if isinstance(value, models.QuerySet | list | tuple | set):
        return sorted((_audit_value(v) for v in value), key=str)
    if isinstance(value, models.fields.files.FieldFile):
        return value.name or None
    if isinstance(value, UUID | Decimal):
        return str(value)
    if hasattr(value, "name") and hasattr(value, "read"):  # an uploaded file not yet stored
        return value.name
    return value


class AuditEvent(models.Model):
    """Who changed what, when: one row per change made by a person or an operator.

    Recorded explicitly by the code that makes the change (`AuditEvent.record`), never from
    signals, so bulk updates by workers do not flood the trail and every row has an author.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_events",
    )
    # Kept beside the foreign key so the trail still names people after their account is gone.
    actor_label = models.CharField(max_length=150, blank=True)
    # SET_NULL rather than CASCADE: the record of who did what outlives the tenant's rows.
    company = models.ForeignKey(
        Company, on_delete=models.SET_NULL, null=True, blank=True, related_name="audit_events"
    )
    content_type = models.ForeignKey(
        ContentType, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    object_id = models.CharField(max_length=64, blank=True)
    object_label = models.CharField(max_length=255, blank=True)
    action = models.CharField(max_length=64, help_text="A short verb phrase, e.g. mapping.change")
    changes = models.JSONField(
        default=dict,
        blank=True,
        encoder=DjangoJSONEncoder,
        help_text='{"field": {"before": ..., "after": ...}} for each field that changed',
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            # The company's history page: its events, newest first.
            models.Index(fields=["company", "-at"], name="audit_company_recent"),
            # "History of this object" links from the admin and the mapping pages.
            models.Index(fields=["content_type", "object_id"], name="audit_object"),
            # The admin's change list: the whole trail, newest first, a page at a time.
            models.Index(fields=["at", "id"], name="audit_admin_order"),
        ]

    def __str__(self):
        who = self.actor_label or "system"
        return f"{who} {self.action} {self.object_label}".strip()

    @staticmethod
    def snapshot(obj, fields):
        """The current values of `fields` on `obj`, in the form `record` compares."""
        values = {}
        for name in fields:
            field = obj._meta.get_field(name)
            if field.many_to_many:
                values[name] = _audit_value(list(getattr(obj, name).all()) if obj.pk else [])
            else:
                values[name] = _audit_value(field.value_from_object(obj))
        return values

    @classmethod
    def record(
        cls,
        actor,
        action,
        *,
        obj=None,
        company=None,
        label="",
        before=None,
        after=None,
        actor_label="",
    ):
        """Store one event; with `before`/`after` dicts only the fields that differ are kept.

        `actor_label` names an author that is no user, e.g. a partner API key ("api:<name>").
        """
        before = {k: _audit_value(v) for k, v in (before or {}).items()}
        after = {k: _audit_value(v) for k, v in (after or {}).items()}
        changes = {
            name: {"before": before.get(name), "after": after.get(name)}
            for name in sorted(before.keys() | after.keys())
            if before.get(name) != after.get(name)
        }
        if actor is not None and not actor.is_authenticated:
            actor = None
        if company is None and obj is not None:
            company = obj if isinstance(obj, Company) else getattr(obj, "company", None)
        return cls.objects.create(
            actor=actor,
            actor_label=(actor.get_username() if actor else actor_label)[:150],
            company=company,
            content_type=ContentType.objects.get_for_model(obj) if obj is not None else None,
            object_id=str(obj.pk) if obj is not None else "",
            object_label=(label or (str(obj) if obj is not None else ""))[:255],
            action=action,
            changes=changes,
        )
