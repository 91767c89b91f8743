"""Personal API tokens: made, listed and revoked on the profile page; stored hashed; shown once."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.test import Client

from accounts.models import ApiToken
from ops.models import SystemLog

pytestmark = pytest.mark.django_db

SECRET = re.compile(r'<code class="token-secret">(emt_[A-Za-z0-9_-]{40,})</code>')


def me(secret: str | None, client: Client | None = None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}
    return (client or Client()).get("/api/v1/me", **headers)


def test_token_lifecycle_on_the_profile_page(alice_client, user):
    page = alice_client.get("/accounts/profile/")
    assert page.status_code == 200 and "API tokens" in page.content.decode()

    created = alice_client.post("/accounts/tokens/", {"name": "laptop script"})
    assert created.status_code == 302 and created["Location"] == "/accounts/profile/#tokens"  # post/redirect/get
    shown = alice_client.get(created["Location"])
    assert shown.status_code == 200 and shown["Cache-Control"] == "no-store"
    secret = SECRET.search(shown.content.decode())[1]
    token = ApiToken.objects.get(user=user)
    # Stored hashed: the digest of the secret, never the secret itself.
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(list(ApiToken.objects.values()))
    assert token.name == "laptop script" and secret.startswith(token.prefix) and len(token.prefix) == 10

    # Shown once: reloaded, the page lists the prefix, never the secret again, and makes no token.
    listing = alice_client.get(created["Location"]).content.decode()
    assert f"{token.prefix}…" in listing and secret not in listing and "never" in listing
    assert ApiToken.objects.filter(user=user).count() == 1

    # The token authenticates API calls as its owner, and its use is recorded.
    answer = me(secret)
    assert answer.status_code == 200 and answer.json()["username"] == "alice"
    token.refresh_from_db()
    assert token.last_used_at is not None

    # Revoked: refused at once, listed as revoked.
    revoked = alice_client.post(f"/accounts/tokens/{token.pk}/revoke/")
    assert revoked.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    refused = me(secret)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
    assert "revoked" in alice_client.get("/accounts/profile/").content.decode()
    assert list(SystemLog.objects.filter(action__startswith="token.").values_list("action", flat=True).order_by("pk")) \
        == ["token.create", "token.revoke"]


def test_a_token_name_is_required_and_nothing_is_made_without_it(alice_client, user):
    response = alice_client.post("/accounts/tokens/", {"name": "  "})
    assert response.status_code == 400 and "This field is required." in response.content.decode()
    assert not ApiToken.objects.exists()


def test_another_users_token_cannot_be_revoked(alice_client, other_user, token_for):
    secret = token_for(other_user)
    theirs = ApiToken.objects.get(user=other_user)
    assert alice_client.post(f"/accounts/tokens/{theirs.pk}/revoke/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None and me(secret).status_code == 200


@pytest.mark.parametrize("header", [
    "Bearer emt_not-a-real-token-at-all-0123456789abcdef", "Bearer ", "Bearer " + "x" * 5000, "Basic YWxpY2U6cHc=",
    "emt_no-scheme",
])
def test_bad_tokens_are_refused(header, user):
    response = Client().get("/api/v1/me", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    body = response.json()
    assert set(body["error"]) == {"code", "message", "fields"} and body["error"]["code"] == "unauthorized"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_no_token_and_no_session_is_refused(db):
    assert me(None).status_code == 401


def test_a_token_of_an_inactive_user_is_refused(user, token_for):
    secret = token_for(user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert me(secret).status_code == 401


def test_a_sent_token_decides_even_with_a_session(alice_client, user, other_user, token_for):
    """A session cookie does not rescue a bad token, nor does it change whose token it is."""
    assert me("emt_revoked-or-unknown-token-0000000000000000", alice_client).status_code == 401
    assert me(token_for(other_user), alice_client).json()["username"] == "bob"
    # Another scheme (a proxy's Basic auth, say) leaves the session in charge.
    assert alice_client.get("/api/v1/me", HTTP_AUTHORIZATION="Basic YWxpY2U6cHc=").json()["username"] == "alice"


def test_the_session_works_for_the_sites_scripts_and_needs_csrf_for_changes(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.get("/api/v1/me").json()["username"] == "alice"
    refused = client.post("/api/v1/conversations", {"title": "x"}, content_type="application/json")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    client.get("/accounts/profile/")
    csrf = client.cookies["csrftoken"].value
    made = client.post("/api/v1/conversations", {"title": "x"}, content_type="application/json", HTTP_X_CSRFTOKEN=csrf)
    assert made.status_code == 201 and made.json()["title"] == "x"
    # A token needs no CSRF token: it is not sent by browsers on their own.


def test_token_count_is_capped(user, token_for, alice_client):
    from accounts.services import TOKENS_MAX_PER_USER

    for i in range(TOKENS_MAX_PER_USER):
        token_for(user, f"t{i}")
    response = alice_client.post("/accounts/tokens/", {"name": "one too many"})
    assert response.status_code == 400 and "revoke one first" in response.content.decode()
    assert ApiToken.objects.filter(user=user).count() == TOKENS_MAX_PER_USER


def test_the_token_section_speaks_chinese(alice_client, settings, token_for, user):
    token_for(user, "脚本")
    alice_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    page = alice_client.get("/accounts/profile/").content.decode()
    for words in ("API 令牌", "创建令牌", "令牌让脚本以你的身份使用 HTTP API", "从未", "撤销"):
        assert words in page, words


def test_a_body_that_is_not_json_is_one_clear_error(user, token_for):
    client, secret = Client(), token_for(user)
    for url, method in [("/api/v1/conversations", "post"), ("/api/v1/preferences", "patch")]:
        response = getattr(client, method)(url, b"{not json", content_type="application/json",
                                           HTTP_AUTHORIZATION=f"Bearer {secret}")
        assert response.status_code == 400 and list(response.json()["error"]["fields"]) == ["__all__"], response.content


def test_staff_see_and_revoke_tokens_in_the_admin_but_never_a_secret(staff_user, user, token_for):
    secret = token_for(user, "cron job")
    token = ApiToken.objects.get(user=user)
    admin = Client()
    admin.force_login(staff_user)
    listing = admin.get("/admin/accounts/apitoken/").content.decode()
    assert "cron job" in listing and token.prefix in listing and secret not in listing
    page = admin.get(f"/admin/accounts/apitoken/{token.pk}/change/").content.decode()
    assert token.digest not in page and secret not in page
    assert admin.get("/admin/accounts/apitoken/add/").status_code == 403
    done = admin.post("/admin/accounts/apitoken/", {"action": "revoke_tokens", "_selected_action": [token.pk]})
    assert done.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None and me(secret).status_code == 401


def test_no_token_on_an_unsafe_method_is_unauthorized_not_a_csrf_failure(db):
    response = Client(enforce_csrf_checks=True).post(
        "/v1/audio/speech", {"model": "tts-1", "input": "Hi.", "voice": "alloy"}, content_type="application/json")
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"
    assert "CSRF" not in response.content.decode()
