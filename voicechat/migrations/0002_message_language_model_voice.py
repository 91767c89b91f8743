from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("voicechat", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="message", name="language", field=models.CharField(blank=True, max_length=8)
        ),
        migrations.AddField(model_name="message", name="model", field=models.CharField(blank=True, max_length=120)),
        migrations.AddField(model_name="message", name="voice", field=models.CharField(blank=True, max_length=120)),
    ]
