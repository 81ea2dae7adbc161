"""Taking a step on a review page the way an officer does (portal.cases.review): the step's required checklist items
ticked, and an irreversible step confirmed on its confirmation page."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.urls import resolve


def step_of(url: str) -> Any:
    """The workflow step an action URL (`…/<pk>/act/<action>/`) takes, or None (a case without a workflow table)."""
    match = resolve(url.split("?")[0])
    for model_admin in admin.site._registry.values():
        opts = model_admin.opts
        if match.url_name == f"{opts.app_label}_{opts.model_name}_act":
            workflow = getattr(model_admin, "workflow", None)
            action = match.kwargs["action"]
            return workflow[action] if workflow is not None and action in workflow else None
    raise LookupError(f"no review admin serves {url}")


def required_checks(url: str) -> list[str]:
    step = step_of(url)
    return [item.key for item in step.checklist if item.required] if step is not None else []


def take_step(client: Any, url: str, data: dict[str, Any] | None = None, *, confirm: bool = True) -> Any:
    """POST a step's form with its required checklist ticked (unless `data` names the ticked items as "check"); if
    the answer is the step's confirmation page and `confirm`, POST its form as the officer's "Confirm" would."""
    data = dict(data or {})
    data.setdefault("check", required_checks(url))
    response = client.post(url, data)
    if confirm and response.status_code == 200 and response.context and response.context.get("confirming"):
        carried: dict[str, list[str]] = {}
        for name, value in response.context["carried"]:
            carried.setdefault(name, []).append(value)
        carried[response.context["token_field"]] = [response.context["token"]]
        response = client.post(response.context["action_url"], carried)
    return response
