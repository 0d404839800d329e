import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from faq.models import Question

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_client(client):
    editor = User.objects.create_user("editor", password="a long editor password", is_staff=True)
    editor.groups.add(Group.objects.get(name="Content editors"))
    client.force_login(editor)
    return client


def test_staff_unpublish_and_publish_in_bulk(admin_client):
    url = reverse("admin:faq_question_changelist")
    ids = list(Question.objects.filter(slug__in=["procedure", "uses-of-mesotherapy"]).values_list("pk", flat=True))

    response = admin_client.post(url, {"action": "unpublish", "_selected_action": ids}, follow=True)
    assert "2 question(s) unpublished." in response.content.decode()
    assert Question.objects.published().count() == 3
    assert "What is the procedure" not in admin_client.get(reverse("faq:index")).content.decode()

    response = admin_client.post(url, {"action": "publish", "_selected_action": ids}, follow=True)
    assert "2 question(s) published." in response.content.decode()
    assert Question.objects.published().count() == 5


def test_staff_reorder_questions_from_the_list(admin_client, client):
    questions = list(Question.objects.order_by("position"))
    data = {"form-TOTAL_FORMS": len(questions), "form-INITIAL_FORMS": len(questions), "_save": "Save"}
    for index, question in enumerate(questions):
        data[f"form-{index}-id"] = question.pk
        data[f"form-{index}-position"] = len(questions) - index
        data[f"form-{index}-published"] = "on"
    response = admin_client.post(reverse("admin:faq_question_changelist"), data)
    assert response.status_code == 302
    html = client.get(reverse("faq:index")).content.decode()
    assert html.index('id="aftercare-and-recovery"') < html.index('id="uses-of-mesotherapy"')


def test_admin_search_finds_questions_by_answer_text(admin_client):
    response = admin_client.get(reverse("admin:faq_question_changelist"), {"q": "kidneys"})
    assert "What happens to the fat dissolved" in response.content.decode()
    assert "What is the procedure" not in response.content.decode()


def test_content_editor_can_edit_the_faq(editor_client):
    question = Question.objects.get(slug="procedure")
    assert editor_client.get(reverse("admin:faq_question_change", args=[question.pk])).status_code == 200
    assert editor_client.get(reverse("admin:faq_category_changelist")).status_code == 200


@pytest.mark.parametrize(
    "url_name",
    ["admin:auth_user_changelist", "admin:clinic_clinicdetails_changelist", "admin:auth_group_changelist"],
)
def test_content_editor_can_do_nothing_else(editor_client, url_name):
    assert editor_client.get(reverse(url_name)).status_code == 403
