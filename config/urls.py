from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Flowdesk"
admin.site.site_title = "Flowdesk"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("config.api_urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("config.ops_urls")),
    path("", include("config.page_urls")),
]
