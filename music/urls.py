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
    path("journeys/new/", views.journey_new, name="journey_new"),
    path("journeys/<int:pk>/", views.journey_detail, name="journey"),
    path("journeys/<int:pk>/status/", views.journey_status, name="journey_status"),
    path("journeys/<int:pk>/cancel/", views.journey_cancel, name="journey_cancel"),
    path("journeys/<int:pk>/checkin/", views.journey_checkin, name="journey_checkin"),
    path("journeys/<int:pk>/rate/", views.journey_rate, name="journey_rate"),
    path("journeys/<int:pk>/file/<str:kind>/", views.journey_file, name="journey_file"),
    path("mood/", views.mood, name="mood"),
]
