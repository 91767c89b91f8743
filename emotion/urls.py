from django.urls import path

from emotion import views

app_name = "emotion"

urlpatterns = [
    path("", views.index, name="index"),
    path("history/", views.history, name="history"),
    path("warmup/", views.warmup, name="warmup"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/correct/", views.correct, name="correct"),
]
