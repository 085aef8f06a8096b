"""User.person: the account of a registered person (人员库), e.g. a project manager."""

import pytest
from django.core.exceptions import ValidationError

from jianguan.accounts.models import User
from jianguan.testing import factories as f


def test_an_enterprise_user_is_the_account_of_one_of_its_people(db):
    firm = f.EnterpriseFactory()
    person = f.make_person(firm, "李经理")
    user = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=firm, person=person)
    user.full_clean()
    assert person.user == user
    person.delete()
    user.refresh_from_db()
    assert user.person is None  # the account outlives a removed person record


def test_the_person_must_work_for_the_users_enterprise(db):
    person = f.make_person(f.EnterpriseFactory(), "王五")
    user = f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=f.EnterpriseFactory(), person=person)
    with pytest.raises(ValidationError, match="所属企业"):
        user.full_clean()


def test_one_account_per_person(db):
    firm = f.EnterpriseFactory()
    person = f.make_person(firm, "赵六")
    f.UserFactory(role=User.Role.ENTERPRISE_USER, enterprise=firm, person=person)
    with pytest.raises(ValidationError, match="对应人员"):
        User(username="second", role=User.Role.ENTERPRISE_USER, enterprise=firm, person=person).full_clean(
            exclude=["password"]
        )
