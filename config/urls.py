from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

admin.site.site_header = "Flowdesk"
admin.site.site_title = "Flowdesk"

urlpatterns = [
    path("admin/", admin.site.urls),
    # Until the task inbox exists, operators start in the admin.
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]
