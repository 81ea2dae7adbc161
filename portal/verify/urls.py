"""Public verification: /verify/, /verify/<code>/ and /api/verify/<code>/."""
from django.urls import path  # noqa: F401

urlpatterns = []
