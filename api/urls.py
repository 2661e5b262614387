from django.urls import path

from api import views

app_name = "api"
urlpatterns = [
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<id:pk>/revoke/", views.revoke, name="revoke"),
    path("webhooks/", views.webhooks, name="webhooks"),
    path("webhooks/<id:pk>/", views.webhook, name="webhook"),
    path("webhooks/<id:pk>/toggle/", views.webhook_toggle, name="webhook_toggle"),
    path(
        "webhooks/<id:pk>/deliveries/<id:delivery_pk>/resend/",
        views.webhook_resend,
        name="webhook_resend",
    ),
    path("v1/docs", views.docs, name="docs"),
]
