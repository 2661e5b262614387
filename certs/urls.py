from django.urls import path

from certs import views

app_name = "certs"
urlpatterns = [
    path("", views.index, name="index"),
    path("<number:number>/", views.detail, name="detail"),
    path("<number:number>/key/", views.show_key, name="show_key"),
    path("<number:number>/handover/", views.hand_over, name="hand_over"),
    path("<number:number>/key-notice.pdf", views.key_notice, name="key_notice"),
    path("<number:number>/v<id:version>/<str:kind>.pdf", views.document, name="document"),
]
