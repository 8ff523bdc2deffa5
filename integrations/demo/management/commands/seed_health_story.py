from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from integrations.demo import health_story
from integrations.syncs.services import health


class Command(BaseCommand):
    help = (
        "Add a failing demo company for the staff sync-health pages (after seed_demo; re-runnable)."
    )

    def handle(self, *args, **options):
        owner = get_user_model().objects.filter(username="erin").first()
        if owner is None:
            raise CommandError("Run seed_demo first: the story's owner, erin, is one of its users.")
        with transaction.atomic():
            made = health_story.seed(owner)
        # Every company's summary, so the overview counts the demo companies too.
        companies = health.rebuild_all()
        story = f"{health_story.NAME} is failing" if made else f"{health_story.NAME} was there"
        return f"{story}; health summaries of {companies} companies rebuilt (sign in as staff)."
