from itertools import groupby

from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from clinic.cache import cached_page
from faq.forms import SearchForm
from faq.models import Question
from faq.structured_data import faq_page_json_ld


@require_safe
@cached_page(query=("q",))
def faq_index(request):
    form = SearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    if query:
        questions = list(Question.objects.search(query).with_treatments())
        groups = []
    else:
        questions = list(Question.objects.for_page().with_treatments())
        groups = [(category, list(items)) for category, items in groupby(questions, key=lambda q: q.category)]
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(
        request,
        "faq/index.html",
        {
            "form": form,
            "query": query,
            "questions": questions,
            "groups": groups,
            "json_ld": None if query else faq_page_json_ld(questions),
        },
        status=status,
    )


@staff_member_required
@require_safe
def faq_preview(request, pk):
    """Shows one question as patients will see it, published or not."""
    question = get_object_or_404(Question.objects.select_related("category").with_treatments(), pk=pk)
    return render(request, "faq/preview.html", {"question": question})
