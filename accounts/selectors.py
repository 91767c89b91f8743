from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import ApiToken


def token_list(*, user) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)


def token_get(*, user, pk: int) -> ApiToken:
    """The user's token, or 404."""
    return get_object_or_404(ApiToken, pk=pk, user=user)
