import pytest
from django.core.files.base import ContentFile

from emotion.models import EmotionReading
from voicechat.models import Speaker


@pytest.fixture
def reading(user):
    row = EmotionReading(user=user, source="image")
    row.media.save("face.jpg", ContentFile(b"\xff\xd8\xff\xe0 jpeg bytes"), save=True)
    return row


@pytest.mark.django_db
def test_owner_gets_the_file_with_safe_headers(alice_client, reading):
    response = alice_client.get(reading.media.url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"\xff\xd8\xff\xe0 jpeg bytes"
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_other_users_and_anonymous_get_nothing(client, reading, other_user, staff_user):
    assert client.get(reading.media.url).status_code == 302  # to sign-in
    client.force_login(other_user)
    assert client.get(reading.media.url).status_code == 404
    client.force_login(staff_user)
    assert client.get(reading.media.url).status_code == 200


@pytest.mark.django_db
def test_traversal_and_unknown_types_are_refused(alice_client, user, settings):
    (settings.MEDIA_ROOT / "secret.txt").write_text("x")
    assert alice_client.get("/media/../emotune.sqlite3").status_code == 404
    assert alice_client.get("/media/secret.txt").status_code == 404  # not a row of alice's
    speaker = Speaker(user=user, name="v", transcript="t")
    speaker.reference.save("page.html", ContentFile(b"<script>alert(1)</script>"), save=True)
    response = alice_client.get(speaker.reference.url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
