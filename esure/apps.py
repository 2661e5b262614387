"""AppConfig overrides: the admin site of esure, and Japanese names for third-party apps.

Staff read the admin in Japanese only (issue 20, decision 0020). A third-party app's name is
its AppConfig's verbose_name, which Django lets a project override by listing a subclass in
INSTALLED_APPS. Its models' names live in their Meta: the subclass renames them in ready()
on `_meta` only — `_meta.original_attrs`, which migrations read, keeps the original, so no
migration is ever generated in a third-party app (makemigrations --check stays clean).
"""

# Modules, not classes: a class imported here would count as a config of "esure" itself.
from allauth.mfa import apps as mfa_apps
from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django_tasks_db import apps as tasks_apps


def rename_model(model, name):
    """Show a third-party model as `name` (singular and plural: Japanese has no plural)."""
    model._meta.verbose_name = name
    model._meta.verbose_name_plural = name


def replace_admin(model, model_admin):
    """Show a third-party model through esure's admin class (Japanese columns). The admin app,
    listed first in INSTALLED_APPS, has registered the package's own admin by now."""
    from django.contrib import admin

    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)


class EsureConfig(AppConfig):
    # The one config of "esure" in INSTALLED_APPS; the others here are listed by path.
    default = True
    name = "esure"
    verbose_name = "esure"

    def ready(self):
        from django.tasks.signals import task_finished

        from esure import converters, memory

        # Before any URLconf is loaded (on the first request or reverse()).
        converters.register()
        # A worker returns what its task freed to the system (esure/memory.py).
        task_finished.connect(memory.release_freed_memory, dispatch_uid="esure.memory")


class EsureAdminConfig(admin_apps.AdminConfig):
    """Django admin with esure's site: sections by the work and the work queue first."""

    default = False

    default_site = "esure.admin.EsureAdminSite"


class EsureWorkerAdminConfig(admin_apps.SimpleAdminConfig):
    """The task worker's admin (decision 0050): esure's site without the autodiscovery of
    every app's admin.py, which a process that never serves a page does not need. The admin's
    system checks run as in every other process."""

    default = False

    default_site = EsureAdminConfig.default_site


class TasksConfig(tasks_apps.TasksAppConfig):
    """django-tasks-db: every task esure enqueues is a mail (esure/mail.py)."""

    default = False

    verbose_name = "メール送信キュー"

    def ready(self):
        super().ready()
        from esure.admin import MailQueueAdmin

        model = self.get_model("DBTaskResult")
        rename_model(model, "メール送信キュー")
        replace_admin(model, MailQueueAdmin)


class MultiFactorConfig(mfa_apps.MFAConfig):
    """allauth.mfa: the TOTP devices and recovery codes staff must hold (decision 0001)."""

    default = False

    verbose_name = "多要素認証"

    def ready(self):
        super().ready()
        from esure.admin import AuthenticatorAdmin

        model = self.get_model("Authenticator")
        rename_model(model, "多要素認証")
        replace_admin(model, AuthenticatorAdmin)
