from django.urls import path

from core import views

# Top-level names (no namespace): a load balancer's /healthz and the accessibility statement.
urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("accessibility/", views.accessibility, name="accessibility"),
]
