"""Races for the services tier: actions released together, each in its own thread and database connection."""

import threading

from django.db import connections

from portal.cases.services import TransitionError


def race(*actions):
    """Run each action in its own thread and connection, released together; returns [(index, outcome)]."""
    barrier = threading.Barrier(len(actions))
    outcomes = []

    def run(index, action):
        try:
            prepared = action()  # reads the case, as the page the party looks at did
            barrier.wait(timeout=10)
            prepared()
            outcomes.append((index, "won"))
        except TransitionError as exc:
            outcomes.append((index, type(exc).__name__))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion in the test
            outcomes.append((index, repr(exc)))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, action)) for i, action in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(outcomes) == len(actions), outcomes
    return sorted(outcomes)
