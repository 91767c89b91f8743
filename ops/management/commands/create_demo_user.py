"""Create a demo account to try emotune with."""

import secrets

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.services import user_create


class Command(BaseCommand):
    help = "Create a demo user (default name 'demo') and print its password."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="demo")
        parser.add_argument("--password", help="default: a random one, printed once")
        parser.add_argument("--reset", action="store_true", help="set a new password if the user exists")

    def handle(self, *args, username: str, password: str | None, reset: bool, **options):
        password = password or secrets.token_urlsafe(12)
        existing = User.objects.filter(username=username).first()
        if existing and not reset:
            raise CommandError(f"User {username!r} exists; use --reset to set a new password.")
        if existing:
            existing.set_password(password)
            existing.is_active = True
            existing.save(update_fields=["password", "is_active"])
        else:
            user_create(username=username, password=password)
        self.stdout.write(self.style.SUCCESS(f"Demo user {username!r} ready. Password: {password}"))
