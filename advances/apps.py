from django.apps import AppConfig


class AdvancesConfig(AppConfig):
    name = "advances"
    verbose_name = "前払金の使途管理"

    def ready(self):
        # 完成 releases the designated account (指定解除) whoever records it (decision 0026).
        from advances import services
        from certificates import signals

        signals.completed.connect(services.release_on_completion, dispatch_uid="advances_release")
