from django.http import HttpRequest

from accounts.access import viewer_for


def roles(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"viewer_roles": viewer_for(user).roles}
