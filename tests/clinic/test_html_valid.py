"""Every public page's HTML, and the outbox's and insights' admin pages, pass the Nu Html Checker
(vnu.jar from npm's vnu-jar, installed by `make install`)."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User

from tests.booking.test_outbox import failed_email
from tests.insights.test_views import appointments
from tests.public_pages import error_responses, get_pages, link_pages, post_pages, post_states

pytestmark = pytest.mark.django_db

VNU = Path(settings.BASE_DIR) / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


def vnu_command():
    missing = None
    if not VNU.exists():
        missing = f"{VNU} is missing: run `make install` (npm ci)"
    elif not shutil.which("java"):
        missing = "java is not installed (apt-get install openjdk-17-jre-headless)"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)
    return ["java", "-Xss8m", "-jar", str(VNU), "--errors-only", "--format", "json"]


def nu_errors(command, files):
    """The checker's errors on the files, one line each ("<file> line <n>: <message>")."""
    result = subprocess.run([*command, *files], capture_output=True, text=True)
    messages = json.loads(result.stderr or '{"messages": []}')["messages"]
    errors = [
        f"{Path(message.get('url', '')).stem} line {message.get('lastLine')}: {message['message']}"
        for message in messages
        if message["type"] in ("error", "non-document-error")
    ]
    assert errors or result.returncode == 0, result.stderr
    return errors


def rendered_pages(client):
    pages = {}
    for name, path in get_pages().items():
        response = client.get(path)
        assert response.status_code == (404 if name.endswith("not found") else 200), name
        pages[name] = response.content
    for name, (path, data) in post_pages().items():
        response = client.post(path, data)
        assert response.status_code == 400, name
        pages[name] = response.content
    for name, (path, status) in link_pages().items():
        response = client.get(path)
        assert response.status_code == status, name
        pages[name] = response.content
    for name, (path, data, status) in post_states().items():
        response = client.post(path, data)
        assert response.status_code == status, name
        pages[name] = response.content
    return pages


def test_every_public_page_passes_the_nu_html_checker(client, tmp_path):
    command = vnu_command()
    files = []
    for name, html in rendered_pages(client).items():
        file = tmp_path / (name.replace(" ", "-") + ".html")
        file.write_bytes(html)
        files.append(str(file))
    assert nu_errors(command, files) == []


ERROR_STATUS = {
    "server error": 500,
    "database down": 503,
    "bad host": 400,
    "form without its cookie": 403,
    "too many attempts": 429,
}


@pytest.mark.urls("tests.public_pages")
def test_every_error_page_passes_the_nu_html_checker(settings, tmp_path):
    command = vnu_command()
    responses = error_responses(settings)
    assert {name: response.status_code for name, response in responses.items()} == ERROR_STATUS
    files = []
    for name, response in responses.items():
        file = tmp_path / (name.replace(" ", "-") + ".html")
        file.write_bytes(response.content)
        files.append(str(file))
    assert nu_errors(command, files) == []


def test_the_outbox_and_insights_pages_pass_the_nu_html_checker(client, tmp_path, working_every_day):
    command = vnu_command()
    failed_email(working_every_day)
    appointments(14)
    client.force_login(User.objects.create_superuser("owner", "owner@example.com", "a long owner password"))
    period = "first_day=2026-01-01&last_day=2026-01-10"
    responses = {
        "admin index": client.get("/admin/"),
        "outbox": client.get("/admin/booking/message/?status__exact=failed"),
        "insights": client.get(f"/admin/insights/?{period}"),
        "insights empty": client.get("/admin/insights/?first_day=2020-01-01&last_day=2020-01-02"),
        "insights wrong period": client.get("/admin/insights/?first_day=2026-02-01&last_day=2026-01-01"),
    }
    assert [response.status_code for response in responses.values()] == [200, 200, 200, 200, 400]
    files = []
    for name, response in responses.items():
        file = tmp_path / (name.replace(" ", "-") + ".html")
        file.write_bytes(response.content)
        files.append(str(file))
    assert nu_errors(command, files) == []
