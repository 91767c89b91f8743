from django.urls import path

from voicechat import views

app_name = "voicechat"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.conversation_new, name="new"),
    path("c/<int:pk>/", views.conversation, name="conversation"),
    path("c/<int:pk>/rename/", views.conversation_rename, name="rename"),
    path("c/<int:pk>/clear/", views.conversation_clear, name="clear"),
    path("c/<int:pk>/delete/", views.conversation_delete, name="delete"),
    path("speakers/", views.speakers, name="speakers"),
    path("speakers/<int:pk>/activate/", views.speaker_activate, name="speaker_activate"),
    path("speakers/<int:pk>/rename/", views.speaker_rename, name="speaker_rename"),
    path("speakers/<int:pk>/delete/", views.speaker_delete, name="speaker_delete"),
]
