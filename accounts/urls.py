from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("", views.company, name="company"),
    path("register/", views.register, name="register"),
    path("invitations/", views.invite, name="invite"),
    path("invitations/<id:pk>/revoke/", views.revoke_invitation, name="revoke_invitation"),
    path("invitations/<id:pk>/accept/", views.accept_invitation, name="accept_invitation"),
    path("members/<id:pk>/duty/", views.set_duty, name="set_duty"),
    path("joint-ventures/new/", views.joint_venture_new, name="joint_venture_new"),
    path("branches/new/", views.branch_edit, name="branch_new"),
    path("branches/<id:pk>/", views.branch_edit, name="branch_edit"),
    path(
        "bank-invitations/<id:pk>/accept/",
        views.accept_bank_invitation,
        name="accept_bank_invitation",
    ),
    path(
        "office-invitations/<id:pk>/accept/",
        views.accept_office_invitation,
        name="accept_office_invitation",
    ),
]
