from django.apps import apps
from django.core.management.base import BaseCommand

from clinic.images import WebImageField


class Command(BaseCommand):
    help = (
        "Write the web sizes (WebP and JPEG/PNG, clinic.images) of every uploaded image again: for images "
        "stored before variants were made or before the encoder settings changed. Safe to run twice."
    )

    def handle(self, *args, **options):
        rebuilt = missing = 0
        for model in apps.get_models():
            fields = [field for field in model._meta.get_fields() if isinstance(field, WebImageField)]
            for field in fields:
                for instance in model._default_manager.exclude(**{field.name: ""}).iterator():
                    image = getattr(instance, field.name)
                    if not image.storage.exists(image.name):
                        missing += 1
                        self.stderr.write(f"{model._meta.label} {instance.pk} {field.name}: {image.name} is missing")
                        continue
                    image.variants_write()
                    rebuilt += 1
        self.stdout.write(f"{rebuilt} images rebuilt, {missing} missing.")
