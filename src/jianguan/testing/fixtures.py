"""Shared pytest fixtures (loaded from the repository's conftest.py)."""

from __future__ import annotations

import pytest
from django.conf import settings
from hypothesis import settings as hypothesis_settings

from jianguan.accounts.models import User

from . import factories as f

# Property tests check behaviour, not speed (performance goals live in bench/): no per-example deadline, which a
# busy shared machine overran (DeadlineExceeded in the HJ 212 fuzz tests while the code was right).
hypothesis_settings.register_profile("jianguan", deadline=None)
hypothesis_settings.load_profile("jianguan")


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def lanshan(db):
    return f.division("371302", "兰山区")


@pytest.fixture
def luozhuang(db):
    return f.division("371311", "罗庄区")


@pytest.fixture
def city_bureau(db):
    return f.DepartmentFactory(name="临沂市住房和城乡建设局", jurisdiction=f.city())


@pytest.fixture
def bureau_admin(city_bureau):
    return f.UserFactory(role=User.Role.BUREAU_ADMIN, department=city_bureau)


@pytest.fixture
def lanshan_regulator(lanshan):
    return f.UserFactory(
        role=User.Role.DISTRICT_REGULATOR,
        department=f.DepartmentFactory(name="兰山区住建局", jurisdiction=lanshan),
    )


@pytest.fixture
def luozhuang_regulator(luozhuang):
    return f.UserFactory(
        role=User.Role.DISTRICT_REGULATOR,
        department=f.DepartmentFactory(name="罗庄区住建局", jurisdiction=luozhuang),
    )


def services_enabled() -> bool:
    return bool(getattr(settings, "JIANGUAN_TEST_SERVICES", False))
