from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class TrellisAccountAdapter(DefaultAccountAdapter):
    """No public sign-up: staff are provisioned by the district, guardians are invited."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False
