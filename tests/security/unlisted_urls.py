"""The site's URLs plus one route nobody classified (see test_deploy)."""

from django.http import HttpResponse
from django.urls import path

from emotune.urls import urlpatterns as site

urlpatterns = [*site, path("new-page/", lambda request: HttpResponse("hi"), name="unlisted")]
