from django.urls import path

from dsure import views

app_name = "dsure"
urlpatterns = [
    path("", views.lookup, name="lookup"),
    path("end/", views.end, name="end"),
    path("office/", views.inbox, name="inbox"),
    path("<number:number>/", views.viewer, name="viewer"),
    path("<number:number>/v<id:version>/", views.version, name="version"),
    path("<number:number>/v<id:version>.pdf", views.document, name="document"),
    path("<number:number>/v<id:version>/receive/", views.receive, name="receive"),
]
