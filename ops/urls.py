"""The ops dashboard, mounted under /admin/ops/ and guarded like every admin page."""

from django.contrib import admin
from django.urls import path

from ops import views

app_name = "ops"

urlpatterns = [
    path("", admin.site.admin_view(views.dashboard), name="dashboard"),
    path("dashboard.json", admin.site.admin_view(views.dashboard_json), name="dashboard_json"),
]
