from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    theme = getattr(user, "theme", "system") if user and user.is_authenticated else "system"
    return {"SITE_NAME": settings.SITE_NAME, "theme": theme}
