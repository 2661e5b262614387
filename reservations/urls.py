from django.urls import path

from reservations import views

app_name = "reservations"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.new, name="new"),
    path("<id:pk>/", views.detail, name="detail"),
    path("<id:pk>/edit/", views.edit, name="edit"),
    path("<id:pk>/submit/", views.submit, name="submit"),
    path("<id:pk>/fee-notice.pdf", views.fee_notice, name="fee_notice"),
    path("<id:pk>/use/", views.use, name="use"),
]
