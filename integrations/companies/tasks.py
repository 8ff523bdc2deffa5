"""Thin Celery tasks around the connect services: ids in, a service called, retry policy only."""

from celery import shared_task

from integrations.syncs.retry import CodatTask

from . import services
from .models import Company


# CodatTask retries what clears up on its own (timeouts, 5xx, 429, a request still in flight);
# everything else Codat refuses needs a person, not a retry.
@shared_task(base=CodatTask, max_retries=8, backoff_base=5)
def connect_partner_expense(company_id: int) -> None:
    company = Company.objects.filter(pk=company_id).first()
    if company is not None:
        services.connect_partner_expense(company)
