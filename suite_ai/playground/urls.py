from django.urls import path

from suite_ai.playground import views

urlpatterns = [path("", views.playground, name="playground")]
