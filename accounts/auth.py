"""How API requests are authenticated: a personal token, else the site's signed-in session."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer, SessionAuth

from accounts.services import token_authenticate


class TokenAuth(HttpBearer):
    """``Authorization: Bearer <personal API token>``."""

    def authenticate(self, request: HttpRequest, token: str):
        user = token_authenticate(secret=token.strip())
        if user is None:
            raise AuthenticationError  # a token that is sent must be valid, whatever else comes with it
        request.user = user  # the services and selectors read the user from here, as in the site's views
        return user


class SiteSessionAuth(SessionAuth):
    """The signed-in session (the site's own scripts); unsafe methods need the CSRF token."""

    def __call__(self, request: HttpRequest):
        if request.headers.get("Authorization", "").lower().startswith("bearer "):
            return None  # a request that carries a token is judged by it alone (not, say, a proxy's Basic auth)
        if not request.user.is_authenticated:
            # No one is signed in: nothing for CSRF to protect. The request is unauthenticated
            # (401 with the API's JSON error, as OpenAI clients expect), not "CSRF check failed".
            return None
        return super().__call__(request)


AUTH = [TokenAuth(), SiteSessionAuth()]
