"""One spelling per mailbox: the canonical form of an e-mail address, used before every comparison and store.

"E8B@BÜCHER.EXAMPLE", "e8b@bücher.example" and "e8b@xn--bcher-kva.example" are one mailbox. Databases do not agree
on that (SQLite's LOWER() folds ASCII only; none of them knows punycode), so the portal decides: NFKC, then the
domain through IDNA (UTS #46 mapping, so case, full-width letters and the punycode spelling all give one domain,
stored in its Unicode form), and the part before the @ case-folded. Stored addresses are canonical, so uniqueness is
plain equality on every database (docs/security.md, "E-mail addresses: one spelling per mailbox").
"""

import unicodedata

import idna
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def _canonical_domain(domain: str) -> str:
    ascii_form = idna.encode(domain, uts46=True, transitional=False).decode("ascii")
    return idna.decode(ascii_form)


def normalize_email(value: str) -> str:
    """The canonical form of an address; ValidationError when its domain is not a valid internationalised name."""
    address = unicodedata.normalize("NFKC", value or "").strip()
    if not address:
        return ""
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise ValidationError(_("Enter a valid e-mail address."), code="invalid")
    try:
        domain = _canonical_domain(domain.rstrip("."))
    except (idna.IDNAError, UnicodeError, ValueError):
        raise ValidationError(
            _("The part after the @ (%(domain)s) is not a valid domain name. Check the address."),
            code="invalid_domain",
            params={"domain": domain},
        ) from None
    # The domain is already case-mapped by UTS #46; folding it again would turn "straße.de" into another domain.
    return f"{local.casefold()}@{domain}"


def canonical_email(value: str) -> str:
    """normalize_email() where nothing may be refused (a stored row, a lookup): NFKC and case folding at least."""
    try:
        return normalize_email(value)
    except ValidationError:
        return unicodedata.normalize("NFKC", value or "").strip().casefold()
