from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from booking.models import Treatment


@require_GET
def treatment_list(request):
    return render(request, "booking/treatment_list.html", {"treatments": Treatment.objects.active()})


@require_GET
def treatment_detail(request, slug):
    treatment = get_object_or_404(Treatment.objects.active(), slug=slug)
    questions = treatment.questions.for_page()
    return render(request, "booking/treatment_detail.html", {"treatment": treatment, "questions": questions})


@require_GET
def book(request):
    return render(request, "booking/book.html", {"treatments": Treatment.objects.active()})
