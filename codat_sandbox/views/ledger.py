"""The ledger viewer: what landed in each company's fake accounting software."""

from django.http import Http404, HttpResponse


def index(request):
    raise Http404


def company_ledger(request, company_id):
    raise Http404


def download_attachment(request, company_id, attachment_id):
    raise Http404


def faults(request, company_id):
    return HttpResponse(status=405)
