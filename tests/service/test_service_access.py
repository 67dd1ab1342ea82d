"""Who may see what: every role signs in and requests every route and every department's
objects; the table below is the rule, and the test checks each cell of it."""

from __future__ import annotations

import pytest

from deliverypack.service.ops import add_user
from service_kit import (  # noqa: F401  (fixtures)
    PEOPLE,
    ROUND,
    SAMPLES,
    _service_base,
    app,
    client,
    csrf_of,
    service_root,
    sign_in,
    upload,
)

WHO = ["anonymous", "dh-submitter", "dh-approver", "ho-submitter", "ho-approver", "unit",
       "admin"]
DH_STAFF = {"dh-submitter", "dh-approver"}
HO_STAFF = {"ho-submitter", "ho-approver"}
DEPT_STAFF = DH_STAFF | HO_STAFF

# (method, route, who may) — {dh} and {ho} are a DH and an HO submission
ACCESS = [
    ("GET", "/returns", DEPT_STAFF),
    ("GET", f"/returns/{ROUND}/template", DEPT_STAFF),  # each gets their own department's
    ("GET", "/submissions/{dh}", DH_STAFF | {"unit"}),
    ("GET", "/submissions/{dh}/feedback", DH_STAFF | {"unit"}),
    ("GET", "/submissions/{ho}", HO_STAFF | {"unit"}),
    ("GET", "/submissions/{ho}/feedback", HO_STAFF | {"unit"}),
    ("GET", f"/unit?round={ROUND}", {"unit"}),
    ("GET", f"/unit/framework?round={ROUND}", {"unit"}),
    ("GET", f"/unit/priorities/HO2?round={ROUND}", {"unit"}),
    ("GET", f"/unit/priorities/HO2/chart/ASY2.png?round={ROUND}", {"unit"}),
    ("GET", f"/unit/outputs/master-{ROUND}.xlsx", {"unit"}),
    ("GET", "/audit", {"unit", "admin"}),
    ("GET", "/admin/accounts", {"admin"}),
    ("POST", "/returns/upload", {"dh-submitter", "ho-submitter"}),
    ("POST", "/submissions/{dh}/acknowledge", DH_STAFF),
    ("POST", "/submissions/{ho}/acknowledge", HO_STAFF),
    ("POST", "/submissions/{dh}/signoff", {"dh-approver"}),
    ("POST", "/submissions/{ho}/signoff", {"ho-approver"}),
    ("POST", "/unit/remind", {"unit"}),
    ("POST", "/unit/build", {"unit"}),
    ("POST", "/admin/accounts", {"admin"}),
    ("POST", "/admin/accounts/{spare}/deactivate", {"admin"}),
]


@pytest.fixture
def world(app, service_root):
    """A rejected DH and a rejected HO return (with feedback), the master built, and a
    spare account for the admin to deactivate."""
    files = service_root.parent / "files"
    ids = {}
    for dept in ("dh", "ho"):
        c = client(app)
        bad = files / f"{dept.upper()}-2002-12-broken.xlsx"
        r = upload(c, sign_in(c, f"{dept}-submitter"), bad)
        ids[dept] = r.headers["location"].rsplit("/", 1)[1]
    u = client(app)
    assert u.post("/unit/build", data={"csrf": sign_in(u, "unit"), "what": "master",
                                       "round": ROUND}).status_code == 303
    ids["spare"] = str(add_user(app.state.svc.engine, "spare@example.gov.uk", "Spare", "DH",
                                "submitter", password="a long enough password").account_id)
    return ids


def _form(route: str, who: str, n: int) -> tuple[dict, dict | None]:
    if route == "/returns/upload":
        dept = PEOPLE[who][1] if who in PEOPLE and PEOPLE[who][1] else "DH"
        path = SAMPLES / f"{dept}-2002-12.xlsx"
        return {}, {"file": (path.name, path.read_bytes())}
    if route == "/unit/remind":
        return {"department": "DH", "round": ROUND}, None
    if route == "/unit/build":
        return {"what": "master", "round": ROUND}, None
    if route == "/admin/accounts":
        return {"email": f"new{n}@example.gov.uk", "name": "New Person", "role": "unit",
                "department": ""}, None
    return {"ack-1": "seen"}, None


def test_every_role_against_every_route(app, world):
    browsers = {w: client(app) for w in WHO}
    csrf = {w: sign_in(browsers[w], w) for w in WHO if w != "anonymous"}
    csrf["anonymous"] = ""
    wrong = []
    for n, (method, route, allowed) in enumerate(ACCESS):
        url = route.format(**world)
        for who in WHO:
            c = browsers[who]
            if method == "GET":
                r = c.get(url)
            else:
                data, files = _form(route, who, n)
                r = c.post(url, data={"csrf": csrf[who], **data}, files=files)
            if who == "anonymous":
                ok = (r.status_code == 303 and r.headers["location"].startswith("/login")) \
                    if method == "GET" else r.status_code == 403
                if not ok:
                    wrong.append((method, url, who, r.status_code))
                continue
            refused = r.status_code == 403
            if refused == (who in allowed) or r.status_code >= 500:
                wrong.append((method, url, who, r.status_code))
    assert not wrong, f"(method, route, who, status) against the table: {wrong}"


def test_a_department_never_sees_another_departments_objects(app, world):
    ho = client(app)
    sign_in(ho, "ho-submitter")
    pages = ho.get("/returns").text + ho.get(f"/submissions/{world['ho']}").text
    assert "DH-2002-12" not in pages and f"/submissions/{world['dh']}" not in pages
    template = ho.get(f"/returns/{ROUND}/template?department=DH")
    assert 'filename="HO-2002-12.xlsx"' in template.headers["content-disposition"]
    dh = client(app)
    sign_in(dh, "dh-approver")
    assert "HO-2002-12" not in dh.get("/returns").text
    assert dh.get(f"/submissions/{world['ho']}/feedback").status_code == 403


def test_refusals_are_in_the_audit_log(app, world):
    ho = client(app)
    sign_in(ho, "ho-submitter")
    ho.get(f"/submissions/{world['dh']}")
    u = client(app)
    sign_in(u, "unit")
    log = u.get("/audit").text
    assert f"/submissions/{world['dh']}" in log and "sam.ho@example.gov.uk" in log
