from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest
from django.utils import translation


class TrellisAccountAdapter(DefaultAccountAdapter):
    """No public sign-up: staff are provisioned by the district, guardians are invited."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """allauth's emails (password reset, email confirmation) in the language of the login
        they are about (User.language); the page's language when they name no login."""
        language = getattr(context.get("user"), "language", "") or translation.get_language()
        with translation.override(language):
            super().send_mail(template_prefix, email, context)
