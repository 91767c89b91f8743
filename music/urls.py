from django.urls import path

from music import views

app_name = "music"

urlpatterns = [
    path("", views.studio, name="studio"),
    path("history/", views.history, name="history"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/status/", views.status, name="status"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("<int:pk>/feedback/", views.feedback, name="feedback"),
    path("<int:pk>/file/<str:kind>/", views.file, name="file"),
]
