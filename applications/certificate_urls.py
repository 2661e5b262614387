from django.urls import path

from applications import certificate_views as views

app_name = "certs"
urlpatterns = [
    path("", views.index, name="index"),
    path("<str:number>/", views.detail, name="detail"),
    path("<str:number>/key/", views.show_key, name="show_key"),
    path("<str:number>/handover/", views.hand_over, name="hand_over"),
    path("<str:number>/key-notice.pdf", views.key_notice, name="key_notice"),
    path("<str:number>/v<int:version>/<str:kind>.pdf", views.document, name="document"),
]
