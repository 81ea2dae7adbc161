"""Warm a web process before it serves: what every worker would otherwise do on its first request.

gunicorn loads the application once in its master (`preload_app`, gunicorn.conf.py) and forks the workers from it,
again each time a worker is recycled (`max_requests`). Whatever the master has not done, each new worker does on its
first request while its other threads wait: importing the URLconf and with it every view module (about 140 ms on
the bench machine), building the URL resolver's reverse tables for each language (about 20 ms) and compiling
templates on first use (about 230 ms for all of the project's). On a busy node a worker is recycled every few dozen
seconds, and those stalls were most of the public verification's p99 (docs/architecture.md#benchmarks-and-the-load-test).

warm_up() does it in the process that loads the application (portal/wsgi.py), so the forked workers inherit it. It
opens no database or Redis connection: a connection must not be shared across a fork.
"""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings
from django.template import TemplateSyntaxError, engines
from django.urls import get_resolver, reverse
from django.utils import translation

logger = logging.getLogger(__name__)


def warm_up() -> int:
    """Import the URLconf, build its reverse tables in every language and compile the project's templates;
    returns the number of templates compiled."""
    get_resolver().url_patterns  # noqa: B018 - imports the URLconf, every view module with it
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            reverse("home")  # fills the resolver's tables for this language
    return _compile_templates()


def _compile_templates() -> int:
    compiled = 0
    for engine in engines.all():
        for directory in engine.dirs:
            for path in sorted(Path(directory).rglob("*.html")):
                name = path.relative_to(directory).as_posix()
                try:
                    engine.get_template(name)  # kept by the cached loader
                except TemplateSyntaxError:
                    # Shown to whoever opens a page using it, as without the warm-up; starting must not fail.
                    logger.exception("template %s does not compile", name)
                else:
                    compiled += 1
    return compiled
