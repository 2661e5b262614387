from django.urls import path

from claims import views

app_name = "claims"
urlpatterns = [
    # The contractor: the claims on its guarantees, read only.
    path("", views.index, name="index"),
    path("<id:pk>/", views.detail, name="detail"),
    # The orderer's office: file, answer, follow.
    path("office/", views.office_list, name="office_list"),
    path("office/new/<number:number>/", views.new, name="new"),
    path("office/<id:pk>/", views.office_detail, name="office_detail"),
    path("office/<id:pk>/resubmit/", views.resubmit, name="resubmit"),
    path(
        "office/<id:pk>/attachments/<id:attachment_pk>/",
        views.attachment,
        name="attachment",
    ),
]
