from django.urls import path

from advances import views

app_name = "advances"
W = "<int:pk>/withdrawals/<int:number>/"
urlpatterns = [
    path("", views.index, name="index"),
    path("register/<str:number>/", views.register, name="register"),
    path("<int:pk>/", views.account, name="account"),
    path("<int:pk>/plan/start/", views.plan_start, name="plan_start"),
    path("<int:pk>/plan/", views.plan_edit, name="plan_edit"),
    path("<int:pk>/plan/check/", views.plan_check, name="plan_check"),
    path("<int:pk>/plan/discard/", views.plan_discard, name="plan_discard"),
    path("<int:pk>/plans/<int:version>/", views.plan_detail, name="plan_detail"),
    path("<int:pk>/plans/<int:version>.pdf", views.plan_pdf, name="plan_pdf"),
    path("<int:pk>/withdrawals/new/", views.withdrawal_edit, name="withdrawal_new"),
    path(W, views.withdrawal, name="withdrawal"),
    path(W + "edit/", views.withdrawal_edit, name="withdrawal_edit"),
    path(W + "submit/", views.withdrawal_submit, name="withdrawal_submit"),
    path(W + "cancel/", views.withdrawal_cancel, name="withdrawal_cancel"),
    path(W + "copy/", views.withdrawal_copy, name="withdrawal_copy"),
    path(W + "evidence/", views.evidence_add, name="evidence_add"),
    path(W + "evidence/<int:evidence_pk>/", views.evidence_file, name="evidence_file"),
    path(W + "evidence/<int:evidence_pk>/remove/", views.evidence_remove, name="evidence_remove"),
    path("<int:pk>/withdrawals/<int:number>.pdf", views.withdrawal_pdf, name="withdrawal_pdf"),
]
