from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector, SearchVectorField
from django.db import models
from django.db.models import F, Prefetch, Value
from django.db.models.functions import Coalesce, NullIf
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from clinic.images import WebImage
from faq.sanitize import answer_to_html

# Per language of settings.LANGUAGES: the generated column searched, and PostgreSQL's text search
# configuration that stems its words ("injections" finds "injection").
SEARCH = {"en-gb": ("search_en_gb", "english"), "fr": ("search_fr", "french")}


def searchable(name, language):
    """The text of ``name`` in ``language`` (a translation column of faq/translation.py), or the
    English one where it is blank: a question staff have not translated yet is still found."""
    own = F(f"{name}_{language.replace('-', '_')}")
    if language == "en-gb":
        return own
    return Coalesce(NullIf(own, Value("")), F(f"{name}_en_gb"), output_field=models.TextField())


def search_vector(language):
    config = SEARCH[language][1]
    return SearchVector(searchable("question", language), weight="A", config=config) + SearchVector(
        searchable("answer", language), weight="B", config=config
    )


class Category(WebImage):
    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(
        _("slug"), max_length=120, unique=True, help_text=_("Used in the page address; letters, numbers, dashes.")
    )
    position = models.PositiveIntegerField(_("position"), default=0, help_text=_("Lower numbers come first."))
    description = models.TextField(
        _("description"), blank=True, help_text=_("Optional introduction shown above the questions.")
    )

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self):
        return self.name


class QuestionQuerySet(models.QuerySet):
    def published(self):
        return self.filter(published=True)

    def for_page(self):
        """Published questions in staff order, with their category, in one query."""
        return (
            self.published()
            .select_related("category")
            .order_by("category__position", "category__name", "position", "pk")
        )

    def with_treatments(self):
        """Each question with ``active_treatments``: the active treatments it is about, in one query for all.

        Reached through the relation booking's Treatment declares, so that faq imports nothing of booking.
        """
        treatment = self.model._meta.get_field("treatments").related_model
        return self.prefetch_related(
            Prefetch("treatments", queryset=treatment.objects.active(), to_attr="active_treatments")
        )

    def search(self, text):
        """Published questions matching ``text`` in the active language, best first."""
        column, config = SEARCH.get(get_language(), SEARCH["en-gb"])
        query = SearchQuery(text, search_type="websearch", config=config)
        return (
            self.published()
            .select_related("category")
            .filter(**{column: query})
            .annotate(rank=SearchRank(F(column), query))
            .order_by("-rank", "position", "pk")
        )


class Question(WebImage):
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="questions", verbose_name=_("category")
    )
    question = models.CharField(_("question"), max_length=300, help_text=_("The question as a patient would ask it."))
    slug = models.SlugField(
        _("slug"),
        max_length=120,
        unique=True,
        help_text=_("The question's anchor on the FAQ page (#slug). Changing it breaks links people saved."),
    )
    answer = models.TextField(
        _("answer"),
        help_text=_(
            "Plain text (blank lines make paragraphs) or simple HTML: paragraphs, lists, links, "
            "bold and italics. Anything else is removed when the page is shown."
        ),
    )
    position = models.PositiveIntegerField(
        _("position"), default=0, help_text=_("Lower numbers come first within the category.")
    )
    published = models.BooleanField(
        _("published"), default=False, help_text=_("Only published questions appear on the site.")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last updated"), auto_now=True)
    # Kept by PostgreSQL itself, so every write path (admin, migration, shell) stays searchable.
    search_en_gb = models.GeneratedField(
        expression=search_vector("en-gb"), output_field=SearchVectorField(), db_persist=True
    )
    search_fr = models.GeneratedField(expression=search_vector("fr"), output_field=SearchVectorField(), db_persist=True)

    objects = QuestionQuerySet.as_manager()

    class Meta:
        ordering = ["category__position", "position", "pk"]
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        indexes = [
            GinIndex(fields=["search_en_gb"], name="faq_question_search_en_gb_idx"),
            GinIndex(fields=["search_fr"], name="faq_question_search_fr_idx"),
        ]

    def __str__(self):
        return self.question

    def get_absolute_url(self):
        return reverse("faq:index") + f"#{self.slug}"

    @property
    def answer_html(self):
        return answer_to_html(self.answer)
