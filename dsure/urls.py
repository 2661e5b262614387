from django.urls import path

from dsure import views

app_name = "dsure"
urlpatterns = [
    path("", views.lookup, name="lookup"),
    path("end/", views.end, name="end"),
    path("office/", views.inbox, name="inbox"),
    path("office/export.csv", views.inbox_csv, name="inbox_csv"),
    path("office/members/", views.members, name="members"),
    path("office/members/invite/", views.invite, name="invite"),
    path("office/members/<id:pk>/office/", views.assign, name="assign"),
    path("office/members/<id:pk>/remove/", views.remove, name="remove"),
    path("office/invitations/<id:pk>/revoke/", views.revoke, name="revoke"),
    path("check/", views.check, name="check"),
    path("check/<sha256:fingerprint>/", views.check_fingerprint, name="check_fingerprint"),
    path("<number:number>/", views.viewer, name="viewer"),
    path("<number:number>/v<id:version>/", views.version, name="version"),
    path("<number:number>/v<id:version>.pdf", views.document, name="document"),
    path("<number:number>/v<id:version>/receive/", views.receive, name="receive"),
    path("<number:number>/v<id:version>/return/", views.return_, name="return"),
    path("<number:number>/complete/", views.complete, name="complete"),
    path(
        "<number:number>/refunds/<id:pk>/returned/",
        views.refund_returned,
        name="refund_returned",
    ),
]
