"""One status for a failure in the system log: "failed" (sign-ins wrote "failure", jobs "failed",
and the admin's filter offered both)."""

from django.db import migrations, models


def failure_to_failed(apps, schema_editor):
    apps.get_model("ops", "SystemLog").objects.filter(status="failure").update(status="failed")


def failed_to_failure(apps, schema_editor):
    log = apps.get_model("ops", "SystemLog")
    log.objects.filter(status="failed", action="auth.login").update(status="failure")


class Migration(migrations.Migration):
    dependencies = [("ops", "0003_systemlog_search_text")]

    operations = [
        migrations.RunPython(failure_to_failed, failed_to_failure),
        migrations.AlterField(
            model_name="systemlog",
            name="status",
            field=models.CharField(
                choices=[("success", "Success"), ("failed", "Failed"), ("cancelled", "Cancelled"), ("info", "Info")],
                default="success", max_length=16,
            ),
        ),
    ]
