"""The demo's monitors come with a day of readings, so the project pages' charts have something to show."""

import datetime as dt

from jianguan.demo.seed import HISTORY_PARAMETERS, seed_reading_history
from jianguan.projects.models import State
from jianguan.sites.models import Device, Reading
from jianguan.sites.readings import trends
from jianguan.testing import factories as f

NOW = dt.datetime(2026, 11, 20, 4, 0, tzinfo=dt.UTC)  # noon in Linyi


def test_a_day_of_readings_without_exceedances(lanshan):
    project = f.ProjectFactory(jurisdiction=lanshan, state=State.UNDER_CONSTRUCTION, is_demo=True)
    monitor = Device.objects.create(project=project, name="监测", kind="dust_noise", protocol="hj212", mn="H1")
    Device.objects.create(project=f.ProjectFactory(jurisdiction=lanshan), name="别家", kind="dust_noise", mn="H2")
    assert seed_reading_history(NOW) == 144 * len(HISTORY_PARAMETERS)
    assert not Reading.objects.exclude(device=monitor).exists()  # demo projects only
    trend = trends.device_trend(monitor, hours=24, now=NOW)
    assert [s.parameter for s in trend.series] == list(HISTORY_PARAMETERS)
    pm25 = trend.series[0]
    assert len(pm25.points) == 144 and max(p[2] for p in pm25.points) < 75  # no dust episode in the history
    noise = trend.series[-1]
    night = [p[1] for p in noise.points if p[0].astimezone(dt.timezone(dt.timedelta(hours=8))).hour in (1, 2, 3)]
    day = [p[1] for p in noise.points if p[0].astimezone(dt.timezone(dt.timedelta(hours=8))).hour in (9, 10, 11)]
    assert sum(night) / len(night) < sum(day) / len(day)  # sites are quiet at night
