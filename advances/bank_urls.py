from django.urls import path

from advances import bank_views as views

app_name = "bank"
urlpatterns = [
    path("", views.index, name="index"),
    path("accounts/<int:pk>/", views.account, name="account"),
    path("accounts/<int:pk>/deposits/", views.deposit, name="deposit"),
    path("accounts/<int:pk>/plans/<int:version>.pdf", views.plan_pdf, name="plan_pdf"),
    path("withdrawals/<int:pk>/", views.withdrawal, name="withdrawal"),
    path("withdrawals/<int:pk>/confirm/", views.confirm, name="confirm"),
    path("withdrawals/<int:pk>/reject/", views.reject, name="reject"),
    path("withdrawals/<int:pk>/execute/", views.execute, name="execute"),
    path(
        "withdrawals/<int:pk>/evidence/<int:evidence_pk>/",
        views.evidence_file,
        name="evidence_file",
    ),
    path("withdrawals/<int:pk>.pdf", views.withdrawal_pdf, name="withdrawal_pdf"),
    path("import/", views.bulk_import, name="import"),
    path("import/<int:pk>/", views.import_result, name="import_result"),
]
