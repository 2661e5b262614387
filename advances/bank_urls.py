from django.urls import path

from advances import bank_views as views

app_name = "bank"
urlpatterns = [
    path("", views.index, name="index"),
    path("accounts/<id:pk>/", views.account, name="account"),
    path("accounts/<id:pk>/deposits/", views.deposit, name="deposit"),
    path("accounts/<id:pk>/plans/<id:version>.pdf", views.plan_pdf, name="plan_pdf"),
    path("withdrawals/<id:pk>/", views.withdrawal, name="withdrawal"),
    path("withdrawals/<id:pk>/confirm/", views.confirm, name="confirm"),
    path("withdrawals/<id:pk>/reject/", views.reject, name="reject"),
    path("withdrawals/<id:pk>/execute/", views.execute, name="execute"),
    path(
        "withdrawals/<id:pk>/evidence/<id:evidence_pk>/",
        views.evidence_file,
        name="evidence_file",
    ),
    path("withdrawals/<id:pk>.pdf", views.withdrawal_pdf, name="withdrawal_pdf"),
    path("import/", views.bulk_import, name="import"),
    path("import/<id:pk>/", views.import_result, name="import_result"),
]
