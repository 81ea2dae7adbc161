"""An unreachable database is answered 503 with Retry-After (clients try again); any other error stays a 500."""

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import path

from portal import urls as portal_urls


def database_down(request):
    raise OperationalError("could not connect to server: Connection refused")


def broken(request):
    raise ValueError("a bug")


urlpatterns = [path("down/", database_down), path("bug/", broken)]
handler500 = portal_urls.handler500


@pytest.mark.urls("tests.portal.test_server_error")
@pytest.mark.parametrize(("address", "status"), [("/down/", 503), ("/bug/", 500)])
def test_database_outage_is_503_with_retry_after(db, address, status):
    response = Client(raise_request_exception=False).get(address)
    assert response.status_code == status
    assert (response.get("Retry-After") == "5") is (status == 503)
    assert "12345" in response.content.decode()
