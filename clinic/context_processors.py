from django.utils.functional import SimpleLazyObject

from clinic.models import ClinicDetails


def clinic(request):
    return {"clinic": SimpleLazyObject(ClinicDetails.objects.current)}
