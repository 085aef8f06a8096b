from django.conf import settings


def platform(request):
    return {"PLATFORM_NAME": "监管 JianGuan", "CITY_NAME": "临沂市", "DEBUG": settings.DEBUG}
