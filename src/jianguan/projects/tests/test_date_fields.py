"""Dates in edit forms reach the browser's date picker (ISO), so saving a form keeps them."""

import datetime as dt

from django.test import Client

from jianguan.projects.models import State
from jianguan.sites.devices import services as device_services
from jianguan.testing import factories as f


def test_project_and_device_edit_forms_show_their_dates(lanshan_regulator):
    project = f.staffed_project(state=State.UNDER_CONSTRUCTION)
    project.planned_start = dt.date(2026, 3, 1)
    project.save()
    device = device_services.register_device(
        lanshan_regulator,
        project,
        {"name": "东门监测", "kind": "dust_noise", "protocol": "hj212", "mn": "DATE0001", "password": "pw",
         "installed_on": dt.date(2026, 3, 15)},
    )  # fmt: skip
    client = Client()
    client.force_login(lanshan_regulator)
    page = client.get(f"/sites/devices/{device.pk}/edit/").content.decode()
    assert 'type="date" name="installed_on" value="2026-03-15"' in page
    form = {"name": "东门监测", "dialect": "standard", "rtd_interval_s": 60, "installed_on": "2026-03-15"}
    kept = client.post(f"/sites/devices/{device.pk}/edit/", form)
    assert kept.status_code == 302
    device.refresh_from_db()
    assert device.installed_on == dt.date(2026, 3, 15)
    from jianguan.projects.forms import ProjectForm

    assert 'value="2026-03-01"' in str(ProjectForm(instance=project)["planned_start"])
