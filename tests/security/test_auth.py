"""Tokens, sign-in, lock-out and CSRF."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from mesoclinic.db import utcnow
from mesoclinic.patients.models import Patient
from mesoclinic.security import service
from mesoclinic.security.models import AuthToken, User
from support import TEST_PASSWORD, csrf_from


def _token(client, username, password=TEST_PASSWORD):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


def test_token_endpoint_returns_a_bearer_token_that_works(world, anon):
    r = _token(anon, world.users["nurse"].username)
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0
    me = anon.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["username"] == world.users["nurse"].username


def test_wrong_password_is_401_and_names_no_user(world, anon):
    r = _token(anon, world.users["nurse"].username, "wrong-password")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthenticated"
    assert _token(anon, "nobody", "wrong-password").json() == r.json()


def test_missing_token_fields_are_422_naming_the_field(anon, world):
    r = anon.post("/api/v1/auth/token", json={"username": "x"})
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "password"


def test_repeated_failures_lock_the_account_even_for_the_right_password(world, anon):
    name = world.users["clinician"].username
    for _ in range(5):
        assert _token(anon, name, "bad-password-1").status_code == 401
    locked = _token(anon, name)
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    assert locked.json()["error"]["code"] == "locked_out"


def test_lockout_also_applies_to_the_web_sign_in(world, anon):
    name = world.users["reception"].username
    for _ in range(5):
        _token(anon, name, "bad-password-1")
    page = anon.get("/login")
    token = csrf_from(page.text)
    r = anon.post(
        "/login",
        data={"username": name, "password": TEST_PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 429
    assert "Too many failed sign-ins" in r.text


def test_expired_token_is_refused(world):
    with world.db.factory() as s, s.begin():
        for t in s.execute(select(AuthToken)).scalars():
            t.expires_at = utcnow() - timedelta(seconds=1)
    r = world.client("admin").get("/api/v1/me")
    assert r.status_code == 401


def test_a_deactivated_account_is_refused_with_a_live_token(world):
    client = world.client("admin")
    assert client.get("/api/v1/me").status_code == 200
    with world.db.factory() as s, s.begin():
        s.get(User, world.users["admin"].id).active = False
    assert client.get("/api/v1/me").status_code == 401


def test_the_caller_is_found_with_their_clinic_time_zone_in_one_statement(world):
    with world.db.factory() as s:
        clinician = s.get(User, world.users["clinician"].id)
        raw, _token = service.issue_token(
            s, clinician, kind="api", lifetime=timedelta(minutes=5), client_addr=None
        )
        s.flush()
        holder = service.resolve_token_holder(s, raw, "api")
        assert holder is not None and holder.username == world.users["clinician"].username
        assert holder.clinic_timezone == world.clinic_a.timezone
        assert service.resolve_token_holder(s, raw, "web") is None  # another kind of token
        assert service.resolve_token_holder(s, raw + "x", "api") is None


def test_web_sign_in_sets_a_secure_httponly_samesite_cookie(world, anon):
    page = anon.get("/login")
    token = csrf_from(page.text)
    r = anon.post(
        "/login",
        data={
            "username": world.users["nurse"].username,
            "password": TEST_PASSWORD,
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    cookie = r.headers["set-cookie"].lower()
    assert "mc_session=" in cookie and "httponly" in cookie and "secure" in cookie
    assert "samesite=lax" in cookie


def test_sign_in_form_without_csrf_token_is_refused(world, anon):
    anon.get("/login")
    r = anon.post(
        "/login",
        data={"username": world.users["nurse"].username, "password": TEST_PASSWORD},
        follow_redirects=False,
    )
    assert r.status_code == 403
    assert "mc_session" not in r.headers.get("set-cookie", "")


def _count_patients(world):
    with world.db.factory() as s:
        return s.execute(select(func.count()).select_from(Patient)).scalar_one()


def test_form_post_without_csrf_token_is_rejected_and_stores_nothing(world):
    web = world.web("reception")
    before = _count_patients(world)
    r = web.post(
        "/patients/new",
        data={
            "given_name": "Eve",
            "family_name": "Forged",
            "birth_date": "1990-01-01",
            "sex": "female",
        },
    )
    assert r.status_code == 403
    assert "CSRF" in r.text
    assert _count_patients(world) == before


def test_json_call_with_session_cookie_needs_the_csrf_header(world):
    web = world.web("reception")
    body = {
        "given_name": "Eve",
        "family_name": "Forged",
        "birth_date": "1990-01-01",
        "sex": "female",
    }
    assert web.post("/api/v1/patients", json=body).status_code == 403
    page = web.get("/patients/new")
    token = page.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    r = web.post("/api/v1/patients", json=body, headers={"X-CSRF-Token": token})
    assert r.status_code == 201


def test_sign_out_revokes_the_session(world):
    web = world.web("nurse")
    page = web.get("/")
    token = page.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    cookie = web.cookies.get("mc_session")
    assert web.post("/logout", data={"csrf_token": token}).status_code == 303
    web.cookies.set("mc_session", cookie)
    r = web.get("/patients")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_pages_redirect_to_sign_in_when_signed_out(anon):
    r = anon.get("/patients", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/patients"


def test_login_next_parameter_cannot_leave_the_site(world, anon):
    page = anon.get("/login")
    token = csrf_from(page.text)
    r = anon.post(
        "/login",
        data={
            "username": world.users["nurse"].username,
            "password": TEST_PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert r.headers["location"] == "/"


def test_admin_adds_a_staff_user_from_the_users_page(world):
    web = world.web("admin")
    page = web.get("/admin/users")
    token = csrf_from(page.text)
    r = web.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "username": "nurse.two",
            "role": "nurse",
            "clinic": "",
            "password": "long-enough-pw",
        },
    )
    assert r.status_code == 422 and "clinic" in r.text
    r = web.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "username": "nurse.two",
            "role": "nurse",
            "clinic": "Clinic A",
            "password": "long-enough-pw",
        },
    )
    assert r.status_code == 303
    assert "nurse.two" in web.get("/admin/users").text
    assert world.web("clinician").get("/admin/users").status_code == 403
