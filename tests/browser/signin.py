"""Signing in to the admin in a real browser, as staff do: the password, then the code their app shows now."""

from tests.factories import authenticator_code


def admin_sign_in(page, user, password, path="/admin/"):
    page.goto(path)
    page.get_by_label("Username").fill(user.get_username())
    page.get_by_label("Password").fill(password)
    page.get_by_label("Code from your authenticator app").fill(authenticator_code(user))
    page.get_by_role("button", name="Log in").click()
