from django.urls import path

from advances import views

app_name = "advances"
W = "<id:pk>/withdrawals/<id:number>/"
urlpatterns = [
    path("", views.index, name="index"),
    path("register/<number:number>/", views.register, name="register"),
    path("<id:pk>/", views.account, name="account"),
    path("<id:pk>/plan/start/", views.plan_start, name="plan_start"),
    path("<id:pk>/plan/", views.plan_edit, name="plan_edit"),
    path("<id:pk>/plan/check/", views.plan_check, name="plan_check"),
    path("<id:pk>/plan/discard/", views.plan_discard, name="plan_discard"),
    path("<id:pk>/plans/<id:version>/", views.plan_detail, name="plan_detail"),
    path("<id:pk>/plans/<id:version>.pdf", views.plan_pdf, name="plan_pdf"),
    path("<id:pk>/withdrawals/new/", views.withdrawal_edit, name="withdrawal_new"),
    path(W, views.withdrawal, name="withdrawal"),
    path(W + "edit/", views.withdrawal_edit, name="withdrawal_edit"),
    path(W + "submit/", views.withdrawal_submit, name="withdrawal_submit"),
    path(W + "cancel/", views.withdrawal_cancel, name="withdrawal_cancel"),
    path(W + "copy/", views.withdrawal_copy, name="withdrawal_copy"),
    path(W + "evidence/", views.evidence_add, name="evidence_add"),
    path(W + "evidence/<id:evidence_pk>/", views.evidence_file, name="evidence_file"),
    path(W + "evidence/<id:evidence_pk>/remove/", views.evidence_remove, name="evidence_remove"),
    path("<id:pk>/withdrawals/<id:number>.pdf", views.withdrawal_pdf, name="withdrawal_pdf"),
]
