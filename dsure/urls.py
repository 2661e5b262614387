from django.urls import path

from dsure import views

app_name = "dsure"
urlpatterns = [
    path("", views.lookup, name="lookup"),
    path("end/", views.end, name="end"),
    path("office/", views.inbox, name="inbox"),
    path("<str:number>/", views.viewer, name="viewer"),
    path("<str:number>/v<int:version>/", views.version, name="version"),
    path("<str:number>/v<int:version>.pdf", views.document, name="document"),
    path("<str:number>/v<int:version>/receive/", views.receive, name="receive"),
]
