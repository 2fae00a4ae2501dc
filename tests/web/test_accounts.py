"""Accounts, sessions, throttling and masking of the console, on real SQLite files."""

from __future__ import annotations

import io
import sqlite3

import pytest

from hallq.cli import main
from web.accounts import FAILURES_TO_LOCK, LOCK_S, MIGRATIONS, AccountError, Accounts
from web.security import Sessions, Throttle, mask

PASSWORD = "a-good-password-1"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "hall.db"
    sqlite3.connect(path).close()  # the hub made it
    return path


@pytest.fixture
def accounts(db):
    clock = Clock()
    a = Accounts(db, clock=clock)
    a.clock_ = clock
    yield a
    a.close()


def test_an_account_signs_in_with_its_password_only(accounts):
    accounts.add("王主任", "manager", PASSWORD)
    user, why = accounts.authenticate("王主任", PASSWORD)
    assert user is not None and user.role == "manager" and why == ""
    assert user.may("supervisor") and user.may("viewer")
    assert accounts.authenticate("王主任", PASSWORD + "x") == (None, "bad")
    assert accounts.authenticate("nobody", PASSWORD) == (None, "bad")
    stored = accounts.conn.execute("SELECT pw_hash FROM web_users").fetchone()[0]
    assert stored.startswith("$argon2") and PASSWORD not in stored


def test_roles_build_on_each_other(accounts):
    viewer = accounts.add("v", "viewer", PASSWORD)
    supervisor = accounts.add("s", "supervisor", PASSWORD)
    assert not viewer.may("supervisor") and viewer.may("viewer")
    assert supervisor.may("supervisor") and not supervisor.may("manager")


def test_repeated_failures_lock_the_account_for_a_while(accounts):
    accounts.add("li", "supervisor", PASSWORD)
    for _ in range(FAILURES_TO_LOCK - 1):
        assert accounts.authenticate("li", "wrong-password") == (None, "bad")
    assert accounts.authenticate("li", "wrong-password") == (None, "locked")
    assert accounts.authenticate("li", PASSWORD) == (None, "locked")
    accounts.clock_.now += LOCK_S + 1
    user, _ = accounts.authenticate("li", PASSWORD)
    assert user is not None


def test_a_new_password_lifts_the_lock_and_ends_old_sessions(accounts):
    before = accounts.add("li", "viewer", PASSWORD)
    for _ in range(FAILURES_TO_LOCK):
        accounts.authenticate("li", "wrong-password")
    accounts.clock_.now += 1
    after = accounts.set_password("li", "another-password-2")
    assert after.pw_changed_at != before.pw_changed_at  # a cookie with the old stamp is void
    assert accounts.authenticate("li", "another-password-2")[0] is not None
    assert accounts.authenticate("li", PASSWORD) == (None, "bad")


def test_a_disabled_account_cannot_sign_in(accounts):
    accounts.add("zhang", "viewer", PASSWORD)
    accounts.set_disabled("zhang")
    assert accounts.authenticate("zhang", PASSWORD) == (None, "disabled")
    assert not accounts.get("zhang").may("viewer")
    accounts.set_disabled("zhang", False)
    assert accounts.authenticate("zhang", PASSWORD)[0] is not None


@pytest.mark.parametrize(("name", "role", "password", "message"), [
    ("", "viewer", PASSWORD, "账户名"),
    ("a b", "viewer", PASSWORD, "账户名"),
    ("x" * 33, "viewer", PASSWORD, "账户名"),
    ("<script>", "viewer", PASSWORD, "账户名"),
    ("ok", "admin", PASSWORD, "角色"),
    ("ok", "viewer", "short", "至少 10 个字符"),
    ("ok", "viewer", "aaaaaaaaaaaa", "太简单"),
    ("ok", "viewer", "x" * 300, "最多"),
])
def test_bad_accounts_are_refused_with_a_reason(accounts, name, role, password, message):
    with pytest.raises(AccountError, match=message):
        accounts.add(name, role, password)
    assert accounts.list() == []


def test_an_account_name_is_taken_once(accounts):
    accounts.add("wang", "viewer", PASSWORD)
    with pytest.raises(AccountError, match="已存在"):
        accounts.add("wang", "manager", PASSWORD)
    with pytest.raises(AccountError, match="没有账户"):
        accounts.set_password("nobody", PASSWORD)


def test_the_tables_survive_reopening_and_keep_their_cookie_key(db, accounts):
    accounts.add("wang", "viewer", PASSWORD)
    accounts.audit("wang", "10.0.0.5", "login", "wang")
    key = accounts.cookie_key
    again = Accounts(db)
    assert again.cookie_key == key and [u.name for u in again.list()] == ["wang"]
    entry = again.audit_log()[0]
    assert (entry.user, entry.address, entry.action, entry.ok) == ("wang", "10.0.0.5", "login", True)
    schema = again.conn.execute("SELECT value FROM web_meta WHERE key = 'web_schema'").fetchone()
    assert schema == (str(len(MIGRATIONS)),)
    again.close()


def test_no_hall_database_no_accounts(tmp_path):
    with pytest.raises(AccountError, match="没有找到大厅数据库"):
        Accounts(tmp_path / "missing.db")


def test_the_user_command_reads_the_password_from_stdin(db, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["web", "user", "add", "王主任", "--role", "manager", "--db", str(db)]) == 0
    assert main(["web", "--db", str(db), "user", "list"]) == 0
    assert "王主任" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["web", "user", "passwd", "王主任", "--db", str(db)]) == 1
    assert "至少 10 个字符" in capsys.readouterr().err
    assert main(["web", "user", "disable", "王主任", "--db", str(db)]) == 0
    assert main(["web", "user", "disable", "nobody", "--db", str(db)]) == 1
    assert "没有账户 nobody" in capsys.readouterr().err
    log = Accounts(db).audit_log()
    assert [e.action for e in log] == ["user_disable", "user_add"]


def test_sessions_are_signed_and_expire_when_idle():
    sessions = Sessions("k" * 64, idle_s=60)
    s = Sessions.new("wang", 5.0)
    loaded, expired = sessions.load(sessions.dump(s))
    assert loaded == s and not expired
    assert sessions.load(sessions.dump(s)[:-2] + "xx") == (None, False)  # forged
    assert sessions.load(Sessions("other-key", 60).dump(s)) == (None, False)
    assert Sessions("k" * 64, idle_s=-1).load(sessions.dump(s)) == (None, True)
    assert sessions.csrf_ok(s, sessions.csrf_token(s))
    assert not sessions.csrf_ok(s, sessions.csrf_token(Sessions.new("wang")))
    assert not sessions.csrf_ok(s, "") and not sessions.csrf_ok(s, None)


def test_the_throttle_allows_a_burst_then_waits():
    now = [0.0]
    t = Throttle(3, 60.0, clock=lambda: now[0])
    assert [t.allow("1.2.3.4") for _ in range(4)] == [True, True, True, False]
    assert t.allow("5.6.7.8")
    now[0] = 61.0
    assert t.allow("1.2.3.4")


@pytest.mark.parametrize(("text", "masked"), [
    ("电话13812345678", "电话138****5678"),
    ("座机 0571-88123456", "座机 0571-****3456"),
    ("身份证330106199001011234", "身份证330106********1234"),
    ("联系张三先生", "联系张*先生"),
    ("群众：李四反映", "群众：李**映"),
    ("已整改，无个人信息", "已整改，无个人信息"),
])
def test_personal_data_is_masked_for_lists(text, masked):
    assert mask(text) == masked
