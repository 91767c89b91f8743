from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from emotion.models import EmotionReading
from emotune.admin_kit import CachedValuesFilter, JobRowAdmin, changelist_link


@admin.register(EmotionReading)
class EmotionReadingAdmin(JobRowAdmin):
    list_display = (
        "id", "thumbnail", "user_link", "source", "status", "emotion", "corrected_emotion", "confidence", "engine", "seconds",
        "created_at",
    )
    list_filter = ("status", "source", "emotion", "corrected_emotion", ("engine", CachedValuesFilter), "created_at")
    search_fields = ("=id", "=user__username", "model_name")
    date_hierarchy = "created_at"
    raw_id_fields = ("user",)
    readonly_fields = (
        *JobRowAdmin.job_fields, "preview", "generations_link",
        "emotion", "uncertain", "face_found", "confidence", "scores", "face_box", "timeline",
        "frames_analysed", "frames_without_face", "media_seconds", "engine", "model_name", "timings",
        "corrected_emotion", "corrected_at",
    )

    @admin.display(description=_("media"))
    def thumbnail(self, obj):
        if obj.media and obj.source != EmotionReading.Source.VIDEO:
            return format_html('<img src="{}" alt="" loading="lazy" style="height:40px;border-radius:4px">',
                               obj.media.url)
        return obj.get_source_display()

    @admin.display(description=_("preview"))
    def preview(self, obj):
        if not obj.media:
            return "-"
        if obj.source == EmotionReading.Source.VIDEO:
            return format_html('<video src="{}" controls preload="none" style="max-height:240px"></video>',
                               obj.media.url)
        return format_html('<img src="{}" alt="" style="max-height:240px">', obj.media.url)

    @admin.display(description=_("generations"))
    def generations_link(self, obj):
        # The music app's model through the reverse relation: the emotion app does not import music.
        generations = EmotionReading._meta.get_field("generations").related_model
        return changelist_link(generations, _("music made from this reading"), reading__id__exact=obj.pk)
