"""The project list's filters survive paging, whatever the user typed."""

from django.test import Client

from jianguan.projects.models import State
from jianguan.testing import factories as f


def test_pager_links_keep_the_search_encoded(bureau_admin, lanshan):
    for i in range(21):
        f.ProjectFactory(name=f"A&B 安置房 {i}", jurisdiction=lanshan, state=State.UNDER_CONSTRUCTION)
    f.ProjectFactory(name="别的项目", jurisdiction=lanshan, state=State.UNDER_CONSTRUCTION)
    client = Client()
    client.force_login(bureau_admin)
    page = client.get("/projects/", {"q": "A&B 安置房", "jurisdiction": "371302"})
    assert page.context["page"].paginator.count == 21
    assert "?q=A%26B+%E5%AE%89%E7%BD%AE%E6%88%BF&amp;jurisdiction=371302&page=2" in page.content.decode()
    second = client.get("/projects/", {"q": "A&B 安置房", "jurisdiction": "371302", "page": 2})
    assert second.context["page"].number == 2 and len(second.context["page"].object_list) == 1
