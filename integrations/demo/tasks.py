"""The simulator's beat task: nothing in, the service called, no retries (the next minute's
run is the retry)."""

from celery import shared_task

from . import simulator


@shared_task
def simulate_spend() -> None:
    simulator.run_scheduled()
