import pytest
from django.urls import reverse

from accounts.models import Preferences, User
from ops.models import SystemLog

PASSWORD = "tune-in-Pa55word"


@pytest.mark.django_db
def test_signup_creates_user_preferences_and_signs_in(client):
    response = client.post(
        reverse("accounts:signup"),
        {"username": "carol", "email": "carol@example.org", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302 and response.url == reverse("home")
    user = User.objects.get(username="carol")
    assert Preferences.objects.filter(user=user).exists()
    assert client.get(reverse("home")).status_code == 200
    assert SystemLog.objects.filter(action="auth.signup", user=user).exists()


@pytest.mark.django_db
def test_signup_rejects_mismatched_passwords(client):
    response = client.post(
        reverse("accounts:signup"), {"username": "dave", "password1": PASSWORD, "password2": PASSWORD + "x"}
    )
    assert response.status_code == 200
    assert not User.objects.filter(username="dave").exists()
    assert "password2" in response.context["form"].errors


@pytest.mark.django_db
def test_empty_signup_is_a_submission_with_errors(client):
    response = client.post(reverse("accounts:signup"), {})
    assert response.status_code == 200
    assert {"username", "password1", "password2"} <= set(response.context["form"].errors)
    assert not User.objects.exists()


@pytest.mark.django_db
def test_empty_preferences_post_is_refused_and_changes_nothing(alice_client, user):
    Preferences.objects.filter(user=user).update(instruments=["piano"])
    response = alice_client.post(reverse("accounts:preferences"), {})
    assert response.status_code == 200
    assert {"bpm_min", "bpm_max"} <= set(response.context["form"].errors)
    assert Preferences.objects.get(user=user).instruments == ["piano"]


@pytest.mark.django_db
def test_login_logout_and_failure_are_logged(client, user):
    bad = client.post(reverse("accounts:login"), {"username": "alice", "password": "wrong"})
    assert bad.status_code == 200 and not bad.wsgi_request.user.is_authenticated
    assert SystemLog.objects.filter(action="auth.login", status="failed", message="alice").exists()

    good = client.post(reverse("accounts:login"), {"username": "alice", "password": PASSWORD})
    assert good.status_code == 302
    assert SystemLog.objects.filter(action="auth.login", status="success", user=user).exists()

    out = client.post(reverse("accounts:logout"))
    assert out.status_code == 302
    assert client.get(reverse("home")).status_code == 302
    assert SystemLog.objects.filter(action="auth.logout", user=user).exists()


@pytest.mark.django_db
def test_password_change(alice_client, user):
    response = alice_client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": "a-n3w-Melody-pass", "new_password2": "a-n3w-Melody-pass"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-n3w-Melody-pass")


@pytest.mark.django_db
def test_profile_and_preferences_pages(alice_client, user):
    assert alice_client.post(reverse("accounts:profile"), {"first_name": "Alice", "last_name": "", "email": "a@example.org"}).status_code == 302
    user.refresh_from_db()
    assert user.first_name == "Alice"

    response = alice_client.post(
        reverse("accounts:preferences"),
        {"favourite_genres": "lo-fi, ambient ", "instruments": "piano", "bpm_min": 60, "bpm_max": 90,
         "negative_prompt": "drums", "ui_language": "zh-hans"},
    )
    assert response.status_code == 302
    prefs = Preferences.objects.get(user=user)
    assert prefs.favourite_genres == ["lo-fi", "ambient"] and prefs.instruments == ["piano"]
    assert (prefs.bpm_min, prefs.bpm_max, prefs.ui_language) == (60, 90, "zh-hans")
    # The interface follows the chosen language.
    page = alice_client.get(reverse("accounts:preferences"))
    assert "你的音乐口味" in page.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "bpm_min,bpm_max,field",
    [(120, 80, "bpm_max"), (10, 80, "bpm_min"), (60, 500, "bpm_max")],
)
def test_preferences_reject_bad_tempo(alice_client, user, bpm_min, bpm_max, field):
    response = alice_client.post(
        reverse("accounts:preferences"),
        {"favourite_genres": "", "instruments": "", "bpm_min": bpm_min, "bpm_max": bpm_max, "negative_prompt": "", "ui_language": "en"},
    )
    assert response.status_code == 200
    assert field in response.context["form"].errors
    prefs = Preferences.objects.get(user=user)
    assert (prefs.bpm_min, prefs.bpm_max) == (60, 100)


@pytest.mark.django_db
@pytest.mark.parametrize(("bpm_min", "bpm_max", "field"), [(-5, 80, "bpm_min"), (60, 9999, "bpm_max"), (-5, 9999, "bpm_max")])
def test_a_tempo_out_of_range_gets_one_message_whichever_side(alice_client, user, bpm_min, bpm_max, field):
    from accounts.models import BPM_MAX, BPM_MIN

    response = alice_client.post(
        reverse("accounts:preferences"),
        {"favourite_genres": "", "instruments": "", "bpm_min": bpm_min, "bpm_max": bpm_max, "negative_prompt": "", "ui_language": "en"},
    )
    assert response.context["form"].errors[field] == [f"Tempo must be between {BPM_MIN} and {BPM_MAX} BPM."]
    assert f'min="{BPM_MIN}"' in response.content.decode() and f'max="{BPM_MAX}"' in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["home", "accounts:profile", "accounts:preferences", "accounts:password_change"])
def test_anonymous_is_sent_to_sign_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


@pytest.mark.django_db
def test_only_staff_reach_the_admin(client, user, staff_user):
    client.force_login(user)
    assert client.get("/admin/").status_code == 302
    client.force_login(staff_user)
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_language_switch(client):
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert "登录" in client.get("/accounts/login/").content.decode()
