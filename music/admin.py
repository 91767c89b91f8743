from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from emotune.admin_kit import AuditedModelAdmin, CachedValuesFilter, JobRowAdmin, admin_link, audio_player
from music.models import CheckIn, Feedback, Journey, MusicGeneration


class FeedbackInline(admin.TabularInline):
    model = Feedback
    extra = 0
    raw_id_fields = ("user",)
    fields = ("user", "stars", "liked", "comment", "created_at")
    readonly_fields = ("created_at",)


@admin.register(MusicGeneration)
class MusicGenerationAdmin(JobRowAdmin):
    list_display = (
        "id", "user_link", "status", "emotion", "engine", "prompt_path", "duration", "score", "seconds", "created_at",
    )
    list_filter = ("status", ("engine", CachedValuesFilter), "emotion", "prompt_path", "created_at")
    search_fields = ("=id", "=user__username", "description")
    date_hierarchy = "created_at"
    raw_id_fields = ("user", "reading")
    inlines = [FeedbackInline]
    readonly_fields = (
        *JobRowAdmin.job_fields, "player", "reading_link",
        "prompt_draft", "prompt_merged", "prompt_final", "prompt_path", "brief", "engine", "model_name", "decoder",
        "peaks", "duration", "sample_rate", "channels", "score", "score_parts", "timings",
    )

    @admin.display(description=_("listen"))
    def player(self, obj):
        return audio_player(obj.audio_preview or obj.audio)

    @admin.display(description=_("reading"))
    def reading_link(self, obj):
        return admin_link(obj.reading) if obj.reading_id else "-"


@admin.register(Feedback)
class FeedbackAdmin(AuditedModelAdmin):
    list_display = ("id", "generation_link", "user", "stars", "liked", "comment", "created_at")
    list_filter = ("stars", "liked", "created_at")
    list_select_related = ("user", "generation")
    search_fields = ("=user__username", "comment")
    raw_id_fields = ("user", "generation")
    date_hierarchy = "created_at"
    readonly_fields = ("created_at", "updated_at")

    @admin.display(description=_("generation"))
    def generation_link(self, obj):
        return admin_link(obj.generation)


class CheckInInline(admin.TabularInline):
    model = CheckIn
    extra = 0
    raw_id_fields = ("user", "reading")
    fields = ("moment", "mood", "intensity", "note", "reading", "created_at")
    readonly_fields = ("created_at",)


@admin.register(Journey)
class JourneyAdmin(JobRowAdmin):
    list_display = ("id", "user_link", "status", "start_emotion", "target", "engine", "sections_done", "duration",
                    "stars", "seconds", "created_at")
    list_filter = ("status", "target", ("engine", CachedValuesFilter), "plan_path", "created_at")
    search_fields = ("=id", "=user__username")
    date_hierarchy = "created_at"
    raw_id_fields = ("user", "reading")
    inlines = [CheckInInline]
    readonly_fields = (*JobRowAdmin.job_fields, "player", "plan", "plan_path", "plan_notes", "engine", "model_name",
                       "duration", "sample_rate", "channels", "sections_done", "markers", "timings")

    @admin.display(description=_("listen"))
    def player(self, obj):
        return audio_player(obj.audio_preview or obj.audio)


@admin.register(CheckIn)
class CheckInAdmin(AuditedModelAdmin):
    list_display = ("id", "journey_link", "user", "moment", "mood", "intensity", "created_at")
    list_filter = ("moment", "mood", "intensity", "created_at")
    list_select_related = ("user", "journey")
    search_fields = ("=user__username", "note")
    raw_id_fields = ("user", "journey", "reading")
    date_hierarchy = "created_at"
    readonly_fields = ("created_at", "updated_at")

    @admin.display(description=_("journey"))
    def journey_link(self, obj):
        return admin_link(obj.journey)
