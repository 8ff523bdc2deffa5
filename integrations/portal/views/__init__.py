"""The customer's pages, one module per area; this package re-exports the views for urls.py."""

from .team import invitation_accept

__all__ = ["invitation_accept"]
