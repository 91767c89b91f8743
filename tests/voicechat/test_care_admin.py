"""The care layer in the admin: whether a message was a crisis is seen only by staff with the
voicechat.view_crisis permission, and the operator's helplines (Care resources) replace the
defaults shown with the safe answer."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from voicechat import care
from voicechat.models import CareResource, Conversation, Message

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/voicechat/message/"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def staff_with(make_user, username: str, *codenames: str):
    """A staff member (not a superuser) with exactly these voicechat permissions."""
    user = make_user(username)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="voicechat", codename__in=codenames))
    return user


@pytest.fixture
def messages(user):
    conversation = Conversation.objects.create(user=user, title="talk")
    return {
        "crisis": Message.objects.create(conversation=conversation, role="user", text="crisis-row-words", crisis=True),
        "screened": Message.objects.create(conversation=conversation, role="assistant", text="screened-row-words", crisis=True),
        "plain": Message.objects.create(conversation=conversation, role="user", text="plain-row-words"),
    }


def shown(page: str, messages: dict) -> set[str]:
    return {key for key, message in messages.items() if message.text in page}


def test_staff_without_view_crisis_see_no_crisis_filter_column_or_field(client, make_user, messages):
    client.force_login(staff_with(make_user, "reader", "view_message"))
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    page = response.content.decode()
    assert shown(page, messages) == {"crisis", "screened", "plain"}
    assert 'data-filter-title="role"' in page  # the other filters are there
    assert 'data-filter-title="crisis"' not in page and "?crisis=yes" not in page
    assert "column-crisis" not in page and "field-crisis" not in page
    # Filtering by it in the address is refused, not applied.
    for query in ({"crisis": "yes"}, {"crisis__exact": "1"}, {"crisis": "no"}):
        refused = client.get(CHANGELIST, query)
        assert refused.status_code == 400, query
        assert not shown(refused.content.decode(), messages), query
    # Nor is the field on a message's page.
    detail = client.get(reverse("admin:voicechat_message_change", args=[messages["crisis"].pk])).content.decode()
    assert "crisis-row-words" in detail and "field-interrupted" in detail and "field-crisis" not in detail


def test_staff_with_view_crisis_filter_by_it(client, make_user, messages):
    client.force_login(staff_with(make_user, "carer", "view_message", "view_crisis"))
    page = client.get(CHANGELIST).content.decode()
    assert 'data-filter-title="crisis"' in page and "?crisis=yes" in page
    assert "column-crisis" in page and "field-crisis" in page
    assert shown(page, messages) == {"crisis", "screened", "plain"}
    crisis = client.get(CHANGELIST, {"crisis": "yes"})
    assert crisis.status_code == 200 and shown(crisis.content.decode(), messages) == {"crisis", "screened"}
    ordinary = client.get(CHANGELIST, {"crisis": "no"})
    assert ordinary.status_code == 200 and shown(ordinary.content.decode(), messages) == {"plain"}
    exact = client.get(CHANGELIST, {"crisis__exact": "1"})
    assert exact.status_code == 200 and shown(exact.content.decode(), messages) == {"crisis", "screened"}
    detail = client.get(reverse("admin:voicechat_message_change", args=[messages["crisis"].pk])).content.decode()
    assert "field-interrupted" in detail and "field-crisis" in detail


def test_care_resources_added_in_the_admin_replace_the_defaults(client, staff_user, user):
    from voicechat.services import text_turn

    assert care.resources_for("en") == care.DEFAULT_RESOURCES["en"]
    client.force_login(staff_user)
    add = reverse("admin:voicechat_careresource_add")
    for name, contact, note, order, active in [
        ("Second local line", "0800 222", "Evenings", 2, True),
        ("First local line", "0800 111", "24/7, free", 1, True),
        ("Closed line", "0800 999", "No longer answers", 0, False),
    ]:
        response = client.post(add, {"language": "en", "name": name, "contact": contact, "note": note, "order": order,
                                     **({"active": "on"} if active else {})})
        assert response.status_code == 302, response.content.decode()[:2000]
    assert CareResource.objects.count() == 3

    # In order, the inactive one left out; Chinese keeps its defaults.
    expected = [care.Resource("First local line", "0800 111", "24/7, free"), care.Resource("Second local line", "0800 222", "Evenings")]
    assert care.resources_for("en") == expected
    assert care.resources_for("en-GB") == expected
    assert care.resources_for("zh") == care.DEFAULT_RESOURCES["zh"]

    # And in the care.crisis event a crisis turn sends.
    conversation = Conversation.objects.create(user=user)
    events = list(text_turn(conversation=conversation, text="I want to kill myself."))
    crisis = next(e for e in events if e["event"] == "care.crisis")
    assert crisis["resources"] == [r.as_dict() for r in expected]
    assert crisis["reason"] == "user_words"

    # With every row of a language inactive, the defaults are back.
    CareResource.objects.filter(language="en").update(active=False)
    assert care.resources_for("en") == care.DEFAULT_RESOURCES["en"]
