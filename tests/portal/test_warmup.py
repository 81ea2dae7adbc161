"""portal.warmup: what the gunicorn master does once so that every forked worker starts ready."""

import logging
from pathlib import Path

from django.template import engines
from django.urls import get_resolver

from portal.warmup import warm_up


def _cached(name: str) -> bool:
    loader = engines["django"].engine.template_loaders[0]  # the cached loader (DEBUG off or not, Django's default)
    return any(key.split("-")[0] == name for key in loader.get_template_cache)


def test_warm_up_compiles_every_project_template_and_fills_the_resolver_without_a_database():
    # No django_db mark: a query or a connection here would fail the test.
    directory = Path(engines["django"].dirs[0])
    templates = list(directory.rglob("*.html"))
    assert warm_up() == len(templates) > 100
    assert _cached("verify/detail.html") and _cached("base.html")
    # The reverse tables of both languages: a recycled worker's first reverse() builds nothing.
    assert {"zh-hans", "en"} <= set(get_resolver()._reverse_dict)


def test_a_template_that_does_not_compile_is_logged_and_the_rest_still_compiled(settings, tmp_path, caplog):
    (tmp_path / "good.html").write_text("<p>{{ value }}</p>")
    (tmp_path / "broken.html").write_text("{% if %}")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path], "APP_DIRS": True}]
    with caplog.at_level(logging.ERROR, logger="portal.warmup"):
        assert warm_up() == 1
    assert "broken.html does not compile" in caplog.text
    assert _cached("good.html")
