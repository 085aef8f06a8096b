from django.contrib import admin
from django.urls import include, path

from jianguan.accounts import views as account_views
from jianguan.core import views as core_views
from jianguan.ledger import views as ledger_views
from jianguan.notify import views as notify_views
from jianguan.projects import views as project_views

from .api import api

admin.site.site_header = "监管平台后台管理"
admin.site.site_title = "监管平台"

urlpatterns = [
    path("", project_views.home, name="home"),  # an enterprise user's to-do list, everyone else's project list
    path("healthz", core_views.healthz, name="healthz"),
    path("login/", account_views.login_view, name="login"),
    path("logout/", account_views.logout_view, name="logout"),
    path("account/", account_views.account, name="account"),
    path("account/tokens/<int:pk>/revoke/", account_views.token_revoke, name="token_revoke"),
    path("admin/", admin.site.urls),
    path(".well-known/jianguan-ledger-key", ledger_views.public_key, name="ledger_public_key"),
    path("api/", api.urls),
    path("projects/", include("jianguan.projects.urls")),
    path("projects/", include("jianguan.review.urls")),  # the review queue and workspace, certificates
    path("permits/", include("jianguan.review.public_urls")),  # public verification of a certificate
    path("public/", include("jianguan.projects.public_urls")),
    path("sites/", include("jianguan.sites.urls")),
    path("notifications/", notify_views.inbox, name="notifications"),
]
