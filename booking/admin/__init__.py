"""The clinic's admin for booking, one module per kind of thing staff work with.

Importing the package registers every ModelAdmin (Django's admin autodiscovery imports it).
"""

from booking.admin import appointments, courses, health, messages, treatments, waitlist  # noqa: F401
