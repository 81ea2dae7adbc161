"""gunicorn's threaded worker, stopping gracefully without dropping a connection it has already accepted.

gunicorn's gthread worker accepts a connection, then waits in its event loop for the request to arrive before handing
it to a thread. On SIGTERM (a release's old master stopping its workers, docs/deploy.md; a shutdown) it leaves that
loop at once: requests already in threads finish, but a connection accepted in the last moments, whose request had
not been read yet, is dropped, and its client sees "connection reset" (tests/portal/test_release.py caught it under
load). This worker instead stops accepting (the listening socket stays open for the new master's workers), answers
with "Connection: close" from then on, closes its idle kept-alive connections, and goes on until every connection it
accepted has been answered; the master still kills it after GUNICORN_GRACEFUL_TIMEOUT.
"""

from __future__ import annotations

import contextlib
import time

from gunicorn.workers.gthread import ThreadWorker


class DrainingThreadWorker(ThreadWorker):
    draining = False

    def handle_exit(self, sig, frame):  # SIGTERM; runs in the main thread, between two steps of run()'s loop
        self.draining = True
        self.cfg.set("keepalive", 0)  # this process's copy: every answer from now on says "Connection: close"
        with self._lock:  # an RLock: the main thread may hold it already
            for sock in self.sockets:
                with contextlib.suppress(KeyError, ValueError, OSError):
                    self.poller.unregister(sock)

    def murder_keepalived(self):  # called by run() on every turn of its loop
        if self.draining:
            now = time.time()
            with self._lock:
                for conn in self._keep:  # idle between two requests: closed now (the client opens a new one)
                    conn.timeout = now
        super().murder_keepalived()
        if self.draining and self.nr_conns <= 0 and not self.futures:
            self.alive = False  # every accepted connection answered: run() ends as gunicorn's does
