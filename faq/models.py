from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector, SearchVectorField
from django.db import models
from django.db.models import F, Prefetch
from django.urls import reverse

from clinic.images import WebImage
from faq.sanitize import answer_to_html

SEARCH_CONFIG = "english"


class Category(WebImage):
    name = models.CharField(max_length=120)
    slug = models.SlugField(
        max_length=120, unique=True, help_text="Used in the page address; letters, numbers, dashes."
    )
    position = models.PositiveIntegerField(default=0, help_text="Lower numbers come first.")
    description = models.TextField(blank=True, help_text="Optional introduction shown above the questions.")

    class Meta:
        ordering = ["position", "name"]
        verbose_name = "category"
        verbose_name_plural = "categories"

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
        query = SearchQuery(text, search_type="websearch", config=SEARCH_CONFIG)
        return (
            self.published()
            .select_related("category")
            .filter(search_vector=query)
            .annotate(rank=SearchRank(F("search_vector"), query))
            .order_by("-rank", "position", "pk")
        )


class Question(WebImage):
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="questions")
    question = models.CharField(max_length=300, help_text="The question as a patient would ask it.")
    slug = models.SlugField(
        max_length=120,
        unique=True,
        help_text="The question's anchor on the FAQ page (#slug). Changing it breaks links people saved.",
    )
    answer = models.TextField(
        help_text="Plain text (blank lines make paragraphs) or simple HTML: paragraphs, lists, links, "
        "bold and italics. Anything else is removed when the page is shown."
    )
    position = models.PositiveIntegerField(default=0, help_text="Lower numbers come first within the category.")
    published = models.BooleanField(default=False, help_text="Only published questions appear on the site.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField("last updated", auto_now=True)
    # Kept by PostgreSQL itself, so every write path (admin, migration, shell) stays searchable.
    search_vector = models.GeneratedField(
        expression=SearchVector("question", weight="A", config=SEARCH_CONFIG)
        + SearchVector("answer", weight="B", config=SEARCH_CONFIG),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    objects = QuestionQuerySet.as_manager()

    class Meta:
        ordering = ["category__position", "position", "pk"]
        verbose_name = "question"
        verbose_name_plural = "questions"
        indexes = [GinIndex(fields=["search_vector"], name="faq_question_search_idx")]

    def __str__(self):
        return self.question

    def get_absolute_url(self):
        return reverse("faq:index") + f"#{self.slug}"

    @property
    def answer_html(self):
        return answer_to_html(self.answer)
