from django.urls import path

from applications import views
from applications.changes import views as changes

app_name = "applications"
urlpatterns = [
    path("", views.index, name="index"),
    # Menu 5 (保証契約締結後の変更): applications.changes. Its live check comes before the
    # menus' own, so check/5/ (reverse("applications:check", args=["5"])) reaches it.
    path("new/5/guarantees/", changes.choose_guarantee, name="choose_guarantee"),
    path("new/5/guarantees/<number:number>/", changes.new_change, name="new_change"),
    path("check/5/", changes.check, name="check_change"),
    # Menus 1–3 and what every application shares (menu 4's list, detail, edit, submit).
    path("new/<str:menu>/", views.new, name="new"),
    path("new/<str:menu>/works/", views.choose_work, name="choose_work"),
    path("new/<str:menu>/works/<id:work_pk>/", views.new, name="new_for_work"),
    path("check/<str:menu>/", views.check, name="check"),
    path("<id:pk>/", views.detail, name="detail"),
    path("<id:pk>/edit/", views.edit, name="edit"),
    path("<id:pk>/submit/", views.submit, name="submit"),
    path("<id:pk>/withdraw/", views.withdraw, name="withdraw"),
]
