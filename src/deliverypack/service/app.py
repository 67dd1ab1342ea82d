"""The collection service: Starlette routes over the engine, pages rendered on the server.

Who may do what is decided here, once per route, from the session's account: a
department's submitter and approver see only their own department's objects; the unit
sees every department; the admin manages accounts. Objects are found by id and then
checked, never by a path the browser sends.
"""

from __future__ import annotations

import contextlib
import io
import re
import secrets
import sqlite3
import tempfile
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..foundation.domain import FRAMEWORK, FRAMEWORK_SHORT, RAG_NAMES
from ..foundation.errors import DeliverypackError
from ..ledger.signoff import awaiting_signoff, counting
from ..returns.intake import MAX_FILE_BYTES
from .auth import check_login, hash_password, password_problem, safe_next, same_token
from .engine import Engine, Upload, Uploader
from .mail import MailError, receipt_text, signoff_request_text
from .ops import add_user, deactivate_user, mailer_for, remind, service_settings
from .store import DEPARTMENT_ROLES, ROLES, now

HERE = Path(__file__).parent
SESSION_COOKIE = "dp_session"
PRE_COOKIE = "dp_csrf"  # double-submit token for the forms shown before a session exists
SESSION_HOURS = 8
MULTIPART_SLACK = 64 * 1024  # the multipart envelope around the file
COMMENT_MAX = 500
OUTPUT_NAME = re.compile(r"^(master|stocktake|reports)-\d{4}-\d{2}\.(xlsx|pptx|zip)$")

Handler = Callable[..., Awaitable[Response]]


class Forbidden(Exception):
    """The signed-in account may not see or do this."""


class NotFound(Exception):
    pass


class Service:
    """The app's shared parts: the engine, the records, the page renderer, the settings."""

    def __init__(self, root: Path, *, max_upload_bytes: int | None = None,
                 secure_cookies: bool = True):
        self.engine = Engine(root)
        self.store = self.engine.store
        self.settings = service_settings(self.engine.workspace.settings)
        self.max_upload = int(max_upload_bytes or self.settings.get(
            "max_upload_bytes", MAX_FILE_BYTES))
        self.secure = secure_cookies
        self.staging = self.engine.workspace.root / "inbox" / "service"
        self.jinja = Environment(loader=FileSystemLoader(HERE / "templates"),
                                 autoescape=select_autoescape(["html"]))

    def render(self, request: Request, name: str, status: int = 200, **ctx: Any) -> Response:
        user = request.scope.get("dp_user")
        html = self.jinja.get_template(name).render(
            user=user, csrf=request.scope.get("dp_csrf", ""),
            programme=self.engine.workspace.programme, unit=self.engine.workspace.unit_name,
            marking=self.engine.workspace.marking, rag_names=RAG_NAMES, **ctx)
        return HTMLResponse(html, status_code=status)


def ip_of(request: Request) -> str:
    return request.client.host if request.client else ""


def actor_of(user: sqlite3.Row | None) -> str:
    return user["email"] if user is not None else "anonymous"


# ---------------------------------------------------------------------- access control
def page(*roles: str, form: bool = False) -> Callable[[Handler], Handler]:
    """A route for signed-in accounts with one of `roles`; a form also needs its CSRF token.

    Not signed in: a page redirects to the login (coming back here after it); a form or
    an API-like request gets 403."""
    def wrap(fn: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            svc: Service = request.app.state.svc
            sid = request.cookies.get(SESSION_COOKIE, "")
            user = svc.store.session(sid) if sid else None
            if user is None:
                if request.method == "GET":
                    nxt = request.url.path + (f"?{request.url.query}" if request.url.query
                                              else "")
                    return RedirectResponse(f"/login?next={_q(nxt)}", 303)
                return svc.render(request, "error.html", 403,
                                  message="Please sign in first.")
            request.scope["dp_user"], request.scope["dp_csrf"] = user, user["csrf"]
            data: FormData | None = None
            if form:
                if request.url.path.endswith("/upload"):
                    bounded = await _bounded_form(request, svc)
                    if isinstance(bounded, Response):
                        return bounded
                    data = bounded
                else:
                    data = await request.form(max_files=0, max_fields=200)
            try:
                return await guarded(request, svc, user, data)
            finally:
                if data is not None:
                    await data.close()  # the upload's spooled file

        async def guarded(request: Request, svc: Service, user: sqlite3.Row,
                          data: FormData | None) -> Response:
            if data is not None and not same_token(str(data.get("csrf", "")), user["csrf"]):
                svc.store.audit(user["email"], "refused: bad CSRF token",
                                request.url.path, ip_of(request))
                return svc.render(request, "error.html", 403, message=(
                    "This form has expired or did not come from this service. Go back, "
                    "reload the page and try again."))
            if user["role"] not in roles:
                svc.store.audit(user["email"], "refused", request.url.path, ip_of(request))
                return svc.render(request, "error.html", 403,
                                  message="Your account cannot open this page.")
            try:
                if data is not None:
                    return await fn(request, svc, user, data)
                return await fn(request, svc, user)
            except Forbidden:
                svc.store.audit(user["email"], "refused", request.url.path, ip_of(request))
                return svc.render(request, "error.html", 403,
                                  message="Your account cannot open this page.")
            except NotFound:
                return svc.render(request, "error.html", 404, message="There is no such page.")
        return endpoint
    return wrap


def _q(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


async def _bounded_form(request: Request, svc: Service) -> FormData | Response:
    """The upload's form, refused from its Content-Length before any of the body is read."""
    length = request.headers.get("content-length")
    if length is None or not length.isdigit():
        return svc.render(request, "error.html", 411, message=(
            "The upload did not say its size; please use the form's file picker."))
    if int(length) > svc.max_upload + MULTIPART_SLACK:
        svc.store.audit(actor_of(request.scope.get("dp_user")), "refused: upload too large",
                        f"{int(length):,} bytes", ip_of(request))
        return svc.render(request, "error.html", 413, message=(
            f"The file is larger than the service accepts ({svc.max_upload:,} bytes). A "
            "return is normally well under 1 MB: check you chose the right file."))
    return await request.form(max_files=1, max_fields=5)


def own_department(user: sqlite3.Row, department: str | None) -> None:
    """A department's accounts see only their own department's objects; the unit all."""
    if user["role"] == "unit":
        return
    if user["role"] in DEPARTMENT_ROLES and department and user["department"] == department:
        return
    raise Forbidden


def submission_for(svc: Service, user: sqlite3.Row, sid: str) -> sqlite3.Row:
    if not sid.isdigit():
        raise NotFound
    sub = svc.store.one("SELECT * FROM submissions WHERE id=?", int(sid))
    up = svc.store.one("SELECT department FROM service_uploads WHERE submission_id=?",
                       int(sid))
    # a return, or anything uploaded here (a wrong workbook's problems are worth seeing)
    if sub is None or (sub["kind"] not in ("return", "org_return") and up is None):
        raise NotFound
    own_department(user, sub["department"] or (up["department"] if up else None))
    return sub


# ---------------------------------------------------------------------- sign in
def _pre_token(request: Request) -> str:
    return request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(24)


def _with_pre(svc: Service, resp: Response, token: str) -> Response:
    resp.set_cookie(PRE_COOKIE, token, httponly=True, samesite="strict", secure=svc.secure,
                    max_age=3600)
    return resp


async def login_page(request: Request) -> Response:
    svc: Service = request.app.state.svc
    token = _pre_token(request)
    request.scope["dp_csrf"] = token
    return _with_pre(svc, svc.render(request, "login.html",
                                     next=safe_next(request.query_params.get("next"))), token)


async def login(request: Request) -> Response:
    svc: Service = request.app.state.svc
    data = await request.form(max_files=0, max_fields=10)
    ip = ip_of(request)
    if not same_token(str(data.get("csrf", "")), request.cookies.get(PRE_COOKIE)):
        return svc.render(request, "error.html", 403, message=(
            "This form has expired. Reload the sign-in page and try again."))
    email, password = str(data.get("email", ""))[:254], str(data.get("password", ""))[:1024]
    result = await run_in_threadpool(check_login, svc.store, email, password, ip)
    if result.account is None:
        svc.store.audit(email or "anonymous", "sign-in failed", "", ip, result.message)
        token = _pre_token(request)
        request.scope["dp_csrf"] = token
        page = svc.render(request, "login.html", 401, error=result.message, email=email,
                          next=safe_next(str(data.get("next", ""))))
        return _with_pre(svc, page, token)
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        svc.store.end_session(old)  # the id a browser brought is never the one kept
    sid, _ = svc.store.new_session(result.account["id"], SESSION_HOURS, ip)
    svc.store.audit(result.account["email"], "signed in", "", ip)
    resp = RedirectResponse(safe_next(str(data.get("next", "")), home_of(result.account)),
                            303)
    resp.set_cookie(SESSION_COOKIE, sid, httponly=True, samesite="lax", secure=svc.secure,
                    max_age=SESSION_HOURS * 3600)
    resp.delete_cookie(PRE_COOKIE)
    return resp


def home_of(user: sqlite3.Row) -> str:
    return {"unit": "/unit", "admin": "/admin/accounts"}.get(user["role"], "/returns")


@page(*ROLES, form=True)
async def logout(request: Request, svc: Service, user: sqlite3.Row, data: FormData
                 ) -> Response:
    svc.store.end_session(request.cookies.get(SESSION_COOKIE, ""))
    svc.store.audit(user["email"], "signed out", "", ip_of(request))
    resp = RedirectResponse("/login", 303)
    resp.delete_cookie(SESSION_COOKIE)
    return resp


@page(*ROLES)
async def home(request: Request, svc: Service, user: sqlite3.Row) -> Response:
    return RedirectResponse(home_of(user), 303)


async def invite_page(request: Request) -> Response:
    svc: Service = request.app.state.svc
    inv = svc.store.invitation(request.path_params["token"])
    if inv is None:
        return svc.render(request, "error.html", 404, message=(
            "This invitation has been used or has expired. Ask the delivery unit for a "
            "new one."))
    token = _pre_token(request)
    request.scope["dp_csrf"] = token
    acc = svc.store.account(inv["account_id"])
    return _with_pre(svc, svc.render(request, "invite.html", account=acc), token)


async def invite(request: Request) -> Response:
    svc: Service = request.app.state.svc
    data = await request.form(max_files=0, max_fields=10)
    if not same_token(str(data.get("csrf", "")), request.cookies.get(PRE_COOKIE)):
        return svc.render(request, "error.html", 403, message="This form has expired.")
    token = request.path_params["token"]
    inv = svc.store.invitation(token)
    if inv is None:
        return svc.render(request, "error.html", 404, message=(
            "This invitation has been used or has expired."))
    password, again = str(data.get("password", "")), str(data.get("again", ""))
    problem = password_problem(password) or (
        "the same password twice" if password != again else None)
    if problem:
        request.scope["dp_csrf"] = data.get("csrf", "")
        return svc.render(request, "invite.html", 400, account=svc.store.account(
            inv["account_id"]), error=f"Please choose {problem}.")
    aid = svc.store.accept_invitation(token, await run_in_threadpool(hash_password, password))
    if aid is None:
        return svc.render(request, "error.html", 404, message="This invitation was used.")
    acc = svc.store.account(aid)
    svc.store.audit(acc["email"] if acc else "?", "password set from invitation", "",
                    ip_of(request))
    return RedirectResponse("/login", 303)


# ---------------------------------------------------------------------- department pages
def _rounds(svc: Service) -> list[Any]:
    return svc.engine.call(lambda: sorted(svc.engine.workspace.register.rounds,
                                          key=lambda r: r.id, reverse=True))


def _closed(svc: Service, rid: str) -> Any:
    """The event that closed a round (its papers published), or None while it is open."""
    from ..ledger.rounds import round_state

    return svc.engine.call(lambda: round_state(svc.engine.workspace.ledger, rid))


@page("submitter", "approver")
async def returns_page(request: Request, svc: Service, user: sqlite3.Row) -> Response:
    dept = user["department"]
    rows = []
    for rnd in _rounds(svc):
        mine = await run_in_threadpool(svc.engine.positions, rnd.id, dept)
        if mine:  # a round with no return for this department or organisation is not shown
            rows.append({"round": rnd, "pos": mine[0], "closed": _closed(svc, rnd.id),
                         "template": svc.engine.template_path(rnd.id, dept).exists()})
    name = svc.engine.party_name(dept)
    return svc.render(request, "returns.html", rows=rows, department=name,
                      max_mb=svc.max_upload / 1024 / 1024)


@page("submitter", "approver")
async def template_download(request: Request, svc: Service, user: sqlite3.Row) -> Response:
    rid = request.path_params["round"]
    if rid not in {r.id for r in _rounds(svc)}:
        raise NotFound
    path = svc.engine.template_path(rid, user["department"])
    if not path.exists():
        raise NotFound
    svc.store.audit(user["email"], "template downloaded", path.name, ip_of(request))
    return FileResponse(path, filename=path.name, media_type=XLSX)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _safe_name(name: str) -> str:
    """A file name to keep the upload under: its last part, plain characters only."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[^A-Za-z0-9._ ()-]", "_", base).strip(" .")[:120]
    return base or "upload.xlsx"


async def _stage(svc: Service, upload: UploadFile) -> Path | None:
    """Copy the upload to its own folder under inbox/service/, at most max_upload bytes."""
    folder = svc.staging / f"{now().strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(6)}"
    folder.mkdir(parents=True)
    path = folder / _safe_name(upload.filename or "")
    size = 0
    with path.open("wb") as out:
        while chunk := await upload.read(1024 * 1024):
            size += len(chunk)
            if size > svc.max_upload:
                out.close()
                path.unlink()
                folder.rmdir()
                return None
            out.write(chunk)
    return path


def _unstage(path: Path) -> None:
    """Another department's return is not kept, not even in the staging folder."""
    path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        path.parent.rmdir()


@page("submitter", form=True)
async def upload(request: Request, svc: Service, user: sqlite3.Row, data: FormData
                 ) -> Response:
    file = data.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        return svc.render(request, "error.html", 400, message="Choose a file to upload.")
    path = await _stage(svc, file)
    if path is None:
        return svc.render(request, "error.html", 413, message="The file is too large.")
    ip = ip_of(request)
    up = await run_in_threadpool(svc.engine.upload, path, user["department"],
                                 Uploader(user["department"], user["id"], None, ip))
    if up.forbidden:
        _unstage(path)
        svc.store.audit(user["email"], "refused: another department's return", path.name, ip,
                        f"belongs to {up.report.department}")
        return svc.render(request, "error.html", 403, message=(
            f"{up.report.file} is not a {user['department']} return: upload the template "
            "issued to your department."))
    await run_in_threadpool(_after_upload, svc, up, user, ip)
    if up.report.submission_id is None:
        return svc.render(request, "result.html", 422, report=up.report)
    return RedirectResponse(f"/submissions/{up.report.submission_id}", 303)


def _after_upload(svc: Service, up: Upload, user: sqlite3.Row, ip: str) -> None:
    rep, fb = up.report, up.feedback
    svc.store.audit(user["email"], f"return uploaded: {rep.status}",
                    f"{rep.file} (submission {rep.submission_id})", ip,
                    f"{len(rep.errors)} error(s), {len(rep.warnings)} warning(s)"
                    + ("; same file as before" if rep.duplicate else ""))
    if rep.duplicate:
        return
    base = svc.settings["base_url"].rstrip("/")
    link = f"{base}/submissions/{rep.submission_id}"
    mailer = mailer_for(svc.engine)
    subject, body = receipt_text(rep, link)
    _mail(svc, mailer.send, [user["email"]], subject, body, fb,
          f"{Path(rep.file).stem}.feedback.xlsx")
    if rep.valid:
        approvers = [a["email"] for a in svc.store.accounts(user["department"], ("approver",))]
        subject, body = signoff_request_text(rep, user["name"], link)
        _mail(svc, mailer.send, approvers, subject, body)


def _mail(svc: Service, send: Callable[..., bool], to: list[str], subject: str, body: str,
          attachment: Path | None = None, name: str | None = None) -> None:
    try:
        send(to, subject, body, attachment, name)
    except MailError as exc:  # mail trouble never loses the upload
        svc.store.audit("service", "mail failed", subject, "", str(exc))


def _issues(svc: Service, sid: int) -> list[sqlite3.Row]:
    return svc.store.all("SELECT rowid AS no, * FROM issues WHERE submission_id=? ORDER BY "
                         "CASE severity WHEN 'error' THEN 0 ELSE 1 END, sheet, rowid", sid)


@page("submitter", "approver", "unit")
async def submission_page(request: Request, svc: Service, user: sqlite3.Row) -> Response:
    sub = submission_for(svc, user, request.path_params["sid"])
    issues = _issues(svc, sub["id"])
    acks = {r["issue_no"]: r for r in svc.store.all(
        "SELECT k.*, a.name FROM service_warning_acks k JOIN service_accounts a ON "
        "a.id=k.account_id WHERE submission_id=?", sub["id"])}
    up = svc.store.one("SELECT u.*, a.name FROM service_uploads u LEFT JOIN service_accounts "
                       "a ON a.id=u.account_id WHERE submission_id=?", sub["id"])
    sign = svc.store.one("SELECT s.*, a.name FROM service_signoffs s JOIN service_accounts a "
                         "ON a.id=s.account_id WHERE submission_id=?", sub["id"])
    warnings = [i for i in issues if i["severity"] == "warning"]
    by_sheet: dict[str, list[sqlite3.Row]] = {}
    for i in issues:
        by_sheet.setdefault(i["sheet"] or "(the file)", []).append(i)
    same = svc.store.all("SELECT * FROM submissions WHERE kind=? AND department IS ? AND "
                         "round IS ? ORDER BY id", sub["kind"], sub["department"], sub["round"])
    with svc.store.connect() as db:
        awaiting = awaiting_signoff(db)
    return svc.render(request, "submission.html", sub=sub, by_sheet=by_sheet, acks=acks,
                      warnings=warnings, up=up, sign=sign, counted=counting(same, awaiting),
                      waits=sub["id"] in awaiting,
                      unacked=[w for w in warnings if w["no"] not in acks],
                      current=sub["status"] == "accepted" and sub["superseded_by"] is None)


@page("submitter", "approver", "unit")
async def feedback_download(request: Request, svc: Service, user: sqlite3.Row) -> Response:
    sub = submission_for(svc, user, request.path_params["sid"])
    up = svc.store.one("SELECT feedback_path FROM service_uploads WHERE submission_id=?",
                       sub["id"])
    if up is None or not up["feedback_path"]:
        raise NotFound
    path = (svc.engine.workspace.root / up["feedback_path"]).resolve()
    if not path.is_relative_to(svc.engine.workspace.root / "feedback") or not path.exists():
        raise NotFound
    svc.store.audit(user["email"], "feedback downloaded", f"submission {sub['id']}",
                    ip_of(request))
    return FileResponse(path, filename=f"{Path(sub['file_name']).stem}.feedback.xlsx",
                        media_type=XLSX)


@page("submitter", "approver", form=True)
async def acknowledge(request: Request, svc: Service, user: sqlite3.Row, data: FormData
                      ) -> Response:
    sub = submission_for(svc, user, request.path_params["sid"])
    warnings = {i["no"] for i in _issues(svc, sub["id"]) if i["severity"] == "warning"}
    done = 0
    for key, value in data.multi_items():
        if not key.startswith("ack-") or not key[4:].isdigit() or int(key[4:]) not in warnings:
            continue
        comment = str(value).strip()[:COMMENT_MAX]
        if comment:
            svc.store.acknowledge(sub, int(key[4:]), comment, user["id"])
            svc.store.audit(user["email"], "warning acknowledged",
                            f"submission {sub['id']} issue {key[4:]}", ip_of(request), comment)
            done += 1
    return RedirectResponse(f"/submissions/{sub['id']}", 303)


@page("approver", form=True)
async def signoff(request: Request, svc: Service, user: sqlite3.Row, data: FormData
                  ) -> Response:
    sub = submission_for(svc, user, request.path_params["sid"])
    if sub["status"] != "accepted" or sub["superseded_by"] is not None:
        return svc.render(request, "error.html", 409, message=(
            "Only the department's latest accepted return can be signed off."))
    warnings = {i["no"] for i in _issues(svc, sub["id"]) if i["severity"] == "warning"}
    acked = {r[0] for r in svc.store.all(
        "SELECT issue_no FROM service_warning_acks WHERE submission_id=?", sub["id"])}
    if warnings - acked:
        return svc.render(request, "error.html", 409, message=(
            f"{len(warnings - acked)} warning(s) still need a comment before sign-off."))
    await run_in_threadpool(svc.engine.sign_off, sub["id"], sub["department"], sub["round"],
                            user["id"], ip_of(request))
    svc.store.audit(user["email"], "return signed off",
                    f"{sub['department']} {sub['round']} (submission {sub['id']})",
                    ip_of(request))
    return RedirectResponse(f"/submissions/{sub['id']}", 303)


# ---------------------------------------------------------------------- unit pages
def _round_param(svc: Service, request: Request) -> str:
    rid = request.query_params.get("round")
    return svc.engine.call(svc.engine.workspace.round_or_latest, rid) if rid in {
        r.id for r in _rounds(svc)} else _rounds(svc)[0].id


@page("unit")
async def dashboard(request: Request, svc: Service, user: sqlite3.Row) -> Response:
    rid = _round_param(svc, request)
    rows = await run_in_threadpool(svc.engine.positions, rid)
    outputs = sorted(p.name for p in svc.engine.workspace.outputs.glob(f"*-{rid}.*")
                     if OUTPUT_NAME.match(p.name))
    return svc.render(request, "dashboard.html", rid=rid, rounds=_rounds(svc),
                      closed=_closed(svc, rid),
                      rows=[r for r in rows if not r.organisation],
                      orgs=[r for r in rows if r.organisation], outputs=outputs,
                      flash=request.query_params.get("sent"))


@page("unit", form=True)
async def remind_one(request: Request, svc: Service, user: sqlite3.Row, data: FormData
                     ) -> Response:
    dept, rid = str(data.get("department", "")), str(data.get("round", ""))
    if rid not in {r.id for r in _rounds(svc)}:
        raise NotFound
    sent = await run_in_threadpool(lambda: remind(svc.engine, round_id=rid, department=dept,
                                                  actor=user["email"], ip=ip_of(request)))
    return RedirectResponse(f"/unit?round={rid}&sent={_q(dept if sent else '')}", 303)


def _framework_rows(svc: Service, rid: str) -> tuple[list[str], list[dict[str, Any]]]:
    def run() -> tuple[list[str], list[dict[str, Any]]]:
        reg, led = svc.engine.workspace.register, svc.engine.workspace.ledger
        rounds = [r.id for r in sorted(reg.rounds, key=lambda r: r.id) if r.id <= rid]
        ratings = {r: led.ratings(r, "unit") for r in rounds}
        rows = []
        for pr in reg.priorities:
            cells = {r: [(dim, (ratings[r].get((pr.id, dim)) or {"value": ""})["value"])
                         for dim, _ in FRAMEWORK] for r in rounds}
            rows.append({"priority": pr, "cells": cells})
        return rounds, rows
    return svc.engine.call(run)


@page("unit")
async def framework(request: Request, svc: Service, user: sqlite3.Row) -> Response:
    rid = _round_param(svc, request)
    rounds, rows = _framework_rows(svc, rid)
    labels = svc.engine.call(lambda: {r.id: r.label for r in svc.engine.workspace.register.rounds})
    return svc.render(request, "framework.html", rid=rid, rounds=rounds, rows=rows,
                      labels=labels, dims=FRAMEWORK, short=FRAMEWORK_SHORT)


def _priority_view(svc: Service, pid: str, rid: str) -> Any:
    from ..consolidation.views import priority_summaries

    def run() -> Any:
        reg = svc.engine.workspace.register
        if pid not in {p.id for p in reg.priorities}:
            return None
        return next(s for s in priority_summaries(reg, svc.engine.workspace.ledger, rid)
                    if s.priority.id == pid)
    return svc.engine.call(run)


@page("unit")
async def priority_page(request: Request, svc: Service, user: sqlite3.Row) -> Response:
    rid = _round_param(svc, request)
    s = _priority_view(svc, request.path_params["pid"], rid)
    if s is None:
        raise NotFound
    return svc.render(request, "priority.html", rid=rid, s=s, dims=FRAMEWORK)


@page("unit")
async def priority_chart(request: Request, svc: Service, user: sqlite3.Row) -> Response:
    from ..outputs.charts import trajectory_png

    rid = _round_param(svc, request)
    s = _priority_view(svc, request.path_params["pid"], rid)
    mid = request.path_params["mid"]
    series = next((m for m in s.series if m.measure.id == mid), None) if s else None
    if series is None:
        raise NotFound

    def draw() -> bytes:
        with tempfile.TemporaryDirectory() as tmp:
            return trajectory_png(series, Path(tmp) / "chart.png").read_bytes()
    return Response(await run_in_threadpool(svc.engine.call, draw),
                    media_type="image/png")


@page("unit", form=True)
async def build(request: Request, svc: Service, user: sqlite3.Row, data: FormData
                ) -> Response:
    what, rid = str(data.get("what", "")), str(data.get("round", ""))
    if rid not in {r.id for r in _rounds(svc)} or what not in ("master", "deck", "reports"):
        raise NotFound
    try:
        name = await run_in_threadpool(svc.engine.call, _builder(svc, what, rid))
    except DeliverypackError as exc:
        return svc.render(request, "error.html", 422, message=f"Could not build it: {exc}")
    svc.store.audit(user["email"], f"{what} built", name, ip_of(request))
    return RedirectResponse(f"/unit/outputs/{name}", 303)


def _builder(svc: Service, what: str, rid: str) -> Callable[[], str]:
    workspace = svc.engine.workspace

    def run() -> str:
        if what == "master":
            from ..outputs.master import build_master
            return build_master(workspace, rid).name
        if what == "deck":
            from ..outputs.deck import build_deck
            return build_deck(workspace, rid).name
        from ..outputs.delivery_report import write_report
        paths = [write_report(workspace, rid, d.id) for d in workspace.register.departments
                 if workspace.register.priorities_of(d.id)]
        target = workspace.outputs / f"reports-{rid}.zip"
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for p in paths:
                z.write(p, p.name)
        tmp = target.with_suffix(".partial")
        tmp.write_bytes(buf.getvalue())
        tmp.replace(target)
        return target.name
    return run


@page("unit")
async def output_download(request: Request, svc: Service, user: sqlite3.Row) -> Response:
    name = request.path_params["name"]
    if not OUTPUT_NAME.match(name):
        raise NotFound
    path = svc.engine.workspace.outputs / name
    if not path.is_file():
        raise NotFound
    svc.store.audit(user["email"], "output downloaded", name, ip_of(request))
    return FileResponse(path, filename=name)


@page("unit", "admin")
async def audit_page(request: Request, svc: Service, user: sqlite3.Row) -> Response:
    return svc.render(request, "audit.html", rows=svc.store.audit_log())


# ---------------------------------------------------------------------- admin
def _accounts(request: Request, svc: Service, status: int = 200, **ctx: Any) -> Response:
    """The accounts page: every account, active or not, and the form to invite someone to a
    department or to an organisation that returns its own figures."""
    def parties() -> list[tuple[str, str]]:
        reg = svc.engine.workspace.register
        return [(d.id, d.name) for d in reg.departments] + [
            (o.id, f"{o.name} ({o.kind})") for o in reg.organisations]
    return svc.render(request, "accounts.html", status, accounts=svc.store.accounts(),
                      roles=ROLES, parties=svc.engine.call(parties), **ctx)


@page("admin")
async def accounts_page(request: Request, svc: Service, user: sqlite3.Row) -> Response:
    return _accounts(request, svc)


@page("admin", form=True)
async def accounts_add(request: Request, svc: Service, user: sqlite3.Row, data: FormData
                       ) -> Response:
    try:
        new = await run_in_threadpool(lambda: add_user(
            svc.engine, str(data.get("email", "")), str(data.get("name", ""))[:200],
            str(data.get("department", "")) or None, str(data.get("role", "")),
            actor=user["email"], ip=ip_of(request)))
    except DeliverypackError as exc:
        return _accounts(request, svc, 400, error=str(exc))
    return _accounts(request, svc, link=new.link, mailed=new.mailed)


@page("admin", form=True)
async def accounts_deactivate(request: Request, svc: Service, user: sqlite3.Row,
                              data: FormData) -> Response:
    aid = request.path_params["aid"]
    acc = svc.store.one("SELECT * FROM service_accounts WHERE id=?", int(aid)) \
        if aid.isdigit() else None
    if acc is None:
        raise NotFound
    if acc["id"] == user["id"]:
        return _accounts(request, svc, 409, error=(
            "You cannot deactivate your own account: ask another admin, or use "
            "`deliverypack users deactivate`."))
    try:
        ended = await run_in_threadpool(lambda: deactivate_user(
            svc.engine, acc["email"], actor=user["email"], ip=ip_of(request)))
    except DeliverypackError as exc:
        return _accounts(request, svc, 409, error=str(exc))
    return _accounts(request, svc, done=f"{acc['email']} deactivated; {ended} session(s) "
                                         "ended.")


# ---------------------------------------------------------------------- JSON API
def _bearer(svc: Service, request: Request) -> sqlite3.Row | None:
    auth = request.headers.get("authorization", "")
    if not auth.lower().startswith("bearer "):
        return None
    return svc.store.token(auth[7:].strip())


def _api_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def api_returns(request: Request) -> Response:
    svc: Service = request.app.state.svc
    tok = _bearer(svc, request)
    if tok is None:
        return _api_error(401, "a valid token is needed: Authorization: Bearer TOKEN")
    bounded = await _bounded_form(request, svc)
    if isinstance(bounded, Response):
        return _api_error(bounded.status_code, "the upload is too large or has no "
                          "Content-Length")
    try:
        return await _api_upload(request, svc, tok, bounded)
    finally:
        await bounded.close()


async def _api_upload(request: Request, svc: Service, tok: sqlite3.Row, form: FormData
                      ) -> Response:
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        return _api_error(400, "send the return as the multipart field 'file'")
    path = await _stage(svc, file)
    if path is None:
        return _api_error(413, "the file is too large")
    who, ip = f"token:{tok['department'] or 'unit'}", ip_of(request)
    up = await run_in_threadpool(svc.engine.upload, path, tok["department"], Uploader(
        tok["department"] or "", None, tok["token_hash"], ip))
    if up.forbidden:
        _unstage(path)
        svc.store.audit(who, "refused: another department's return", path.name, ip)
        return _api_error(403, f"{up.report.file} is not a {tok['department']} return")
    rep, fb = up.report, up.feedback
    svc.store.audit(who, f"return uploaded: {rep.status}",
                    f"{rep.file} (submission {rep.submission_id})", ip)
    body = rep.to_json()
    body["file"] = rep.file
    body["feedback"] = f"/submissions/{rep.submission_id}/feedback" if fb else None
    return JSONResponse(body, status_code=200 if rep.valid else 422)


async def api_status(request: Request) -> Response:
    svc: Service = request.app.state.svc
    tok = _bearer(svc, request)
    if tok is None:
        return _api_error(401, "a valid token is needed: Authorization: Bearer TOKEN")
    rid = request.query_params.get("round")
    known = sorted(r.id for r in _rounds(svc))
    if rid is not None and rid not in known:
        return _api_error(404, f"unknown round {rid!r}")
    table: dict[str, Any] = {}
    dept = tok["department"]
    for r in [rid] if rid else known:
        rows = await run_in_threadpool(svc.engine.status, r)
        table[r] = [s.__dict__ for s in rows if dept is None or s.department == dept]
    table["organisations"] = {
        r: await run_in_threadpool(svc.engine.collection, r, dept) for r in table}
    return JSONResponse(table)


# ---------------------------------------------------------------------- the app
async def security_headers(request: Request, call_next: Callable[[Request],
                           Awaitable[Response]]) -> Response:
    resp = await call_next(request)
    resp.headers.setdefault("Content-Security-Policy", "default-src 'self'; img-src 'self' "
                            "data:; frame-ancestors 'none'; form-action 'self'")
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("X-Frame-Options", "DENY")
    resp.headers.setdefault("Referrer-Policy", "no-referrer")  # invitation links stay put
    resp.headers.setdefault("Cache-Control", "no-store")
    return resp


def create_app(root: Path | str, *, max_upload_bytes: int | None = None,
               secure_cookies: bool = True) -> Starlette:
    """The collection service for one workspace (its tables are created if new)."""
    from starlette.middleware import Middleware
    from starlette.middleware.base import BaseHTTPMiddleware

    svc = Service(Path(root), max_upload_bytes=max_upload_bytes,
                  secure_cookies=secure_cookies)
    routes = [
        Route("/", home),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/invite/{token}", invite_page, methods=["GET"]),
        Route("/invite/{token}", invite, methods=["POST"]),
        Route("/returns", returns_page),
        Route("/returns/{round}/template", template_download),
        Route("/returns/upload", upload, methods=["POST"]),
        Route("/submissions/{sid}", submission_page),
        Route("/submissions/{sid}/feedback", feedback_download),
        Route("/submissions/{sid}/acknowledge", acknowledge, methods=["POST"]),
        Route("/submissions/{sid}/signoff", signoff, methods=["POST"]),
        Route("/unit", dashboard),
        Route("/unit/remind", remind_one, methods=["POST"]),
        Route("/unit/framework", framework),
        Route("/unit/priorities/{pid}", priority_page),
        Route("/unit/priorities/{pid}/chart/{mid}.png", priority_chart),
        Route("/unit/build", build, methods=["POST"]),
        Route("/unit/outputs/{name}", output_download),
        Route("/audit", audit_page),
        Route("/admin/accounts", accounts_page, methods=["GET"]),
        Route("/admin/accounts", accounts_add, methods=["POST"]),
        Route("/admin/accounts/{aid}/deactivate", accounts_deactivate, methods=["POST"]),
        Route("/api/v1/returns", api_returns, methods=["POST"]),
        Route("/api/v1/status", api_status, methods=["GET"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        svc.engine.close()

    app = Starlette(routes=routes, middleware=[Middleware(BaseHTTPMiddleware,
                                                          dispatch=security_headers)],
                    lifespan=lifespan)
    app.state.svc = svc
    return app
