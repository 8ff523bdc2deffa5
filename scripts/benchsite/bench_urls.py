"""The project's URLs plus the floor every figure is compared with: a JSON view that does
nothing, served through the same middleware, so a ratio measures only what a view adds."""

from django.http import JsonResponse
from django.urls import path

from expenses_portal.urls import urlpatterns as project_urlpatterns


def trivial(request):
    return JsonResponse({"status": "ok"})


urlpatterns = [path("bench/trivial/", trivial), *project_urlpatterns]
