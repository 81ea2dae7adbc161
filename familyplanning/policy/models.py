"""Policy information and openness of government affairs (政务公开): policies, notices and common questions.

Models of the familyplanning app (app label `familyplanning`), imported by familyplanning/models.py.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.fields import optional_reference


class ArticleKind(models.TextChoices):
    POLICY = "policy", _("Policy")
    NOTICE = "notice", _("Notice")
    FAQ = "faq", _("Common question")


class PolicyArticle(models.Model):
    """A policy, notice or answer to a common question, published by staff in both languages (plain text)."""

    kind = models.CharField(_("kind"), max_length=16, choices=ArticleKind.choices, db_index=True)
    title_zh = models.CharField(_("title (Chinese)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200)
    body_zh = models.TextField(_("text (Chinese)"))
    body_en = models.TextField(_("text (English)"))
    document_number = models.CharField(
        _("document number"), max_length=80, blank=True, help_text=_("e.g. 豫卫人口〔2026〕5号")
    )
    issued_by = models.CharField(_("issued by"), max_length=120, blank=True)
    office = optional_reference("accounts.Office", _("publishing office"), related_name="fp_articles")
    published = models.BooleanField(_("published"), default=False)
    published_on = models.DateField(_("publication date"), null=True, blank=True)
    created_by = optional_reference(settings.AUTH_USER_MODEL, _("created by"))
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)

    class Meta:
        verbose_name = _("policy or notice")
        verbose_name_plural = _("policies, notices and common questions")
        ordering = ["-published_on", "-pk"]
        indexes = [
            models.Index(fields=["kind", "-published_on"], name="fp_article_published", condition=Q(published=True))
        ]

    def __str__(self):
        return self.title

    @property
    def title(self):
        from django.utils.translation import get_language

        return self.title_en if (get_language() or "").startswith("en") and self.title_en else self.title_zh

    @property
    def body(self):
        from django.utils.translation import get_language

        return self.body_en if (get_language() or "").startswith("en") and self.body_en else self.body_zh
