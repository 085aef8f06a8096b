import pytest


@pytest.fixture(autouse=True)
def default_limits(request):
    """Transactional tests flush every table, data migrations' rows included: put the default limits back."""
    names = set(request.fixturenames)
    if not {"db", "transactional_db"} & names:
        return
    request.getfixturevalue("transactional_db" if "transactional_db" in names else "db")
    from jianguan.sites.limits import ensure_defaults
    from jianguan.sites.models import LimitRule

    ensure_defaults(LimitRule)
