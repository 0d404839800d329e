from django.utils.functional import SimpleLazyObject

from clinic.cache import clinic_details


def clinic(request):
    return {"clinic": SimpleLazyObject(lambda: clinic_details(request))}
