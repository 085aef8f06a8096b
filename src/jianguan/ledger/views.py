from django.http import HttpResponse

from . import services


def public_key(request):
    """The checkpoint verifier key (signed-note format: name+keyid+base64), for anyone to verify with."""
    return HttpResponse(services.verifier_key() + "\n", content_type="text/plain; charset=utf-8")
