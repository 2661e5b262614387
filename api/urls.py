from django.urls import path

from api import views

app_name = "api"
urlpatterns = [
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<id:pk>/revoke/", views.revoke, name="revoke"),
    path("v1/docs", views.docs, name="docs"),
]
