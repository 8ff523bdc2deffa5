"""Thin Celery tasks around the connect services: ids in, a service called, retry policy only."""

from celery import shared_task

from integrations.codat.errors import (
    CodatConflictError,
    CodatRateLimitedError,
    CodatTransientError,
)

from . import services
from .models import Company

# What clears up on its own; everything else Codat refuses needs a person, not a retry.
RETRYABLE_CODAT_ERRORS = (CodatTransientError, CodatRateLimitedError, CodatConflictError)


@shared_task(
    autoretry_for=RETRYABLE_CODAT_ERRORS,
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def connect_partner_expense(company_id: int) -> None:
    company = Company.objects.filter(pk=company_id).first()
    if company is not None:
        services.connect_partner_expense(company)
