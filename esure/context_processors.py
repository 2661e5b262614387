from django.conf import settings


def site(request):
    return {"surety_name": settings.ESURE_SURETY_NAME}
