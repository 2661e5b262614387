from django.urls import path

from applications import views

app_name = "applications"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/5/guarantees/", views.choose_guarantee, name="choose_guarantee"),
    path("new/5/guarantees/<str:number>/", views.new_change, name="new_change"),
    path("new/<str:menu>/", views.new, name="new"),
    path("new/<str:menu>/works/", views.choose_work, name="choose_work"),
    path("new/<str:menu>/works/<int:work_pk>/", views.new, name="new_for_work"),
    path("check/<str:menu>/", views.check, name="check"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/submit/", views.submit, name="submit"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
]
