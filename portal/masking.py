"""Masking a mobile number for display and logs, so that no page or log line needs the full number.

Kept in the portal's base layer: the outbox (portal.notify) masks recipients and knows nothing of accounts
(docs/architecture.md#layers)."""


def mask_mobile(e164: str) -> str:
    """138****5678."""
    if not e164:
        return ""
    national = e164[3:] if e164.startswith("+86") else e164
    if len(national) < 7:
        return "*" * len(national)
    return national[:3] + "*" * (len(national) - 7) + national[-4:]
