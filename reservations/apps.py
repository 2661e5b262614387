from django.apps import AppConfig


class ReservationsConfig(AppConfig):
    name = "reservations"
    verbose_name = "契約保証予約"

    def ready(self):
        # A withdrawn or declined application gives its reservation back (decision 0041).
        from applications import signals
        from reservations import services

        signals.closed.connect(services.give_back_on_close, dispatch_uid="reservations_give_back")
