"""The portal's URLs plus a minimal Django view, the baseline served by the same gunicorn in the same run."""

from django.http import HttpResponse
from django.urls import path

from portal.urls import urlpatterns as portal_urlpatterns


def minimal(request):
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("bench/minimal/", minimal), *portal_urlpatterns]
