"""The sync pipeline, one module per stage: preflight, push, follow, reconcile, receipts.

Plain functions over the database and the Codat client; the Celery tasks in
integrations/syncs/tasks.py only call them. Every stage reads where it stands from the rows, so
running one twice, or after a worker was killed at any line, does nothing twice.
"""
