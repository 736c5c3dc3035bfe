from pathlib import Path

from django.conf import settings
from django.http import HttpResponse
from django.urls import path


def index(request):
    # Proof that the image's user may write the media root, and the static files were collected.
    upload = Path(settings.MEDIA_ROOT) / "hello.txt"
    upload.write_text("uploaded\n")
    collected = (Path(settings.STATIC_ROOT) / "mysite" / "site.css").exists()
    return HttpResponse(f"Hello from Django: media writable, static collected: {collected}\n")


urlpatterns = [path("", index)]
