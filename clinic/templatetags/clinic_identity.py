from django import template
from django.template.loader import select_template

register = template.Library()


@register.simple_tag
def treatment_illustration(slug):
    """The drawing shipped for a starting treatment, or the general one: shown until staff upload a photo."""
    return select_template([f"includes/illustrations/{slug}.html", "includes/illustrations/default.html"]).render()
