"""Pages of the platform itself rather than of a room."""

from django.http import HttpResponse


def healthz(request):
    """Liveness for the load balancer: the process answers through the whole middleware stack, without touching
    the database (a database outage must not make every worker look dead). Also the web benchmark's yardstick:
    the fastest any request of this stack can be."""
    return HttpResponse("ok\n", content_type="text/plain; charset=utf-8")
