import pytest

from caller.core.config import DEVICE_DEFAULTS, ConfigError, device_for, load_config, parse_config
from hallq.cli import main
from tests.caller.halls import raw


def problems(data: dict, base=None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(data, "hall.toml", base)
    return info.value.problems


def test_demo_hall_loads_with_its_services_windows_and_devices():
    cfg = load_config("config/hall.toml")
    assert len(cfg.services) >= 6 and len(cfg.windows) >= 8
    assert any(s.green_channel for s in cfg.services.values())
    assert any(w.backup for w in cfg.windows.values())
    assert all(s.materials for s in cfg.services.values())


def test_minimal_config_from_the_protocol_runs_with_defaults():
    cfg = parse_config({
        "hall": {"name": "XX街道便民服务中心"},
        "services": [{"id": "civil", "name": "民政救济", "prefix": "A", "materials": []}],
        "windows": [{"id": "1", "name": "1号窗口", "services": {"civil": 1}}],
        "devices": [{"id": "kiosk-1", "role": "kiosk", "token": "x"}],
    })
    assert cfg.calling.recall_limit == 3
    assert cfg.calling.rating_timeout_s == 15
    assert cfg.calling.announce == "请{number}号到{window_name}办理"
    assert cfg.hall.hours == ()


def test_every_problem_is_reported_with_key_and_expectation():
    data = raw()
    data["services"][1]["prefix"] = "A"
    data["windows"][0]["services"]["nope"] = 1
    data["windows"][1]["services"]["a"] = 5
    data["hall"]["hours"] = ["08:30-11:30", "11:00-12:00"]
    data["devices"].append({"id": "k", "role": "kiosk"})
    data["services"][2]["prefx"] = "C"
    found = problems(data)
    text = "\n".join(found)
    assert "prefix 'A' is also used by service 'a'" in text
    assert "windows[0] (id '1').services.nope: unknown service" in text
    assert "expected weight 2 (first), 1 (normal) or 0 (only when idle), got 5" in text
    assert "overlap" in text
    assert "devices[1] (id 'k'): expected exactly one of token, token_file, token_env" in text
    assert "did you mean 'prefix'?" in text
    assert len(found) >= 6


def test_bad_values_name_the_key():
    data = raw(hall={"name": "x", "timezone": "Mars/Base", "reset_time": "25:00",
                     "holidays": ["2026-13-01"]},
               calling={"skip": "maybe", "announce": "请{numbr}号"})
    text = "\n".join(problems(data))
    for key in ("hall.timezone", "hall.reset_time", "hall.holidays[0]", "calling.skip",
                "calling.announce"):
        assert key in text


def test_bus_devices_need_ports_and_unique_addresses():
    data = raw()
    data["devices"].append({"id": "c", "role": "counter", "token": "x", "windows": ["1", "2"],
                            "addresses": {"1": 4, "2": 4}})
    text = "\n".join(problems(data))
    assert "devices[1] (id 'c').port" in text
    assert "address 4 is also used by window 1" in text


def test_token_file_and_env(tmp_path, monkeypatch):
    (tmp_path / "kiosk.token").write_text("s3cret\n")
    data = raw(devices=[{"id": "k", "role": "kiosk", "token_file": "kiosk.token"},
                        {"id": "w", "role": "display", "token_env": "WALL_TOKEN"}])
    monkeypatch.setenv("WALL_TOKEN", "from-env")
    cfg = parse_config(data, "x.toml", tmp_path)
    assert cfg.devices["k"].token == "s3cret"
    assert cfg.devices["w"].token == "from-env"
    monkeypatch.delenv("WALL_TOKEN")
    assert "WALL_TOKEN is not set" in "\n".join(problems(data))


def test_check_config_command(tmp_path, capsys):
    assert main(["check-config", "config/hall.toml"]) == 0
    out = capsys.readouterr().out
    assert "青山镇便民服务中心" in out and "config OK" in out
    broken = tmp_path / "broken.toml"
    broken.write_text('[hall]\nname = 1\n[[services]]\nid = "a"\n')
    assert main(["check-config", str(broken)]) == 2
    err = capsys.readouterr().err
    assert str(broken) in err and "hall.name: expected a string" in err
    assert "services[0] (id 'a').name: missing" in err
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text("[hall\n")
    assert main(["check-config", str(bad_toml)]) == 2
    assert "not valid TOML" in capsys.readouterr().err


def test_a_device_program_needs_only_its_own_token(tmp_path, monkeypatch):
    data = raw(devices=[{"id": "k", "role": "kiosk", "token_env": "KIOSK_TOKEN"},
                        {"id": "w", "role": "display", "token_file": "tokens/wall"}])
    monkeypatch.setenv("KIOSK_TOKEN", "kiosk-secret")
    cfg = parse_config(data, "x.toml", tmp_path, device="k")  # the wall's file is elsewhere
    assert cfg.devices["k"].token == "kiosk-secret" and cfg.devices["w"].token == ""
    text = "\n".join(problems(data, tmp_path))  # the hub needs every token
    assert "devices[1] (id 'w').token_file: cannot read" in text



def test_device_for_names_the_devices_of_the_role_there_are():
    cfg = load_config("config/hall.toml")
    assert device_for(cfg, "wall-1", "display").id == "wall-1"
    assert device_for(cfg, "eval-1", None).role == "evaluator"
    with pytest.raises(ConfigError) as missing:
        device_for(cfg, "wall-9", "display")
    assert missing.value.problems == ["devices: no device 'wall-9'; the display devices in this "
                                      "config: wall-1"]
    with pytest.raises(ConfigError) as wrong:
        device_for(cfg, "kiosk-1", "led")
    assert wrong.value.problems == ["devices (id 'kiosk-1').role: expected \"led\", got 'kiosk' "
                                    "(the led devices in this config: led-a)"]
    with pytest.raises(ConfigError, match="the admin devices in this config: \\(none\\)"):
        device_for(parse_config(raw()), "eval", "admin")


def test_left_out_device_keys_get_the_defaults():
    cfg = parse_config(raw(devices=[
        {"id": "c", "role": "counter", "token": "t", "windows": ["1"], "port": "/dev/x",
         "addresses": {"1": 1}},
        {"id": "l", "role": "led", "token": "t", "port": "/dev/y", "strips": {"1": 1}},
        {"id": "w", "role": "display", "token": "t"},
    ]))
    for device in cfg.devices.values():
        assert device.options.items() >= DEVICE_DEFAULTS[device.role].items()
    assert cfg.devices["c"].options["baudrate"] == cfg.devices["l"].options["baudrate"] == 9600
    assert cfg.devices["l"].options["idle_text"] == "热情为您服务"


def test_the_loader_runs_the_checks_it_is_given_on_every_sound_device_of_their_role():
    seen = []

    def display_check(config, device):
        seen.append(device.id)
        if device.options["orientation"] != "landscape":
            raise ConfigError(config.path, [f"devices (id {device.id!r}).orientation: nope"])
        return object()

    data = raw(devices=[{"id": "w1", "role": "display", "token": "t"},
                        {"id": "w2", "role": "display", "token": "t", "orientation": "portrait"},
                        {"id": "w3", "role": "display"},  # no token: the loader refuses it
                        {"id": "k", "role": "kiosk", "token": "t"}])
    with pytest.raises(ConfigError) as refused:
        parse_config(data, "hall.toml", checks={"display": display_check})
    assert seen == ["w1", "w2"]
    assert refused.value.problems == [
        "devices[2] (id 'w3'): expected exactly one of token, token_file, token_env",
        "devices (id 'w2').orientation: nope"]


def test_bus_speeds_and_kiosk_switches_are_checked():
    data = raw(devices=[
        {"id": "c", "role": "counter", "token": "t", "windows": ["1"], "port": "/dev/x",
         "addresses": {"1": 1}, "baudrate": 9601},
        {"id": "l", "role": "led", "token": "t", "port": "/dev/y", "strips": {"1": 1},
         "baudrate": True, "idle_text": ""},
        {"id": "k", "role": "kiosk", "token": "t", "priority_entry": 1, "printer": 5},
    ])
    assert problems(data) == [
        "devices[0] (id 'c').baudrate: expected one of 1200, 2400, 4800, 9600, 19200, 38400, "
        "57600, 115200, got 9601",
        "devices[1] (id 'l').baudrate: expected one of 1200, 2400, 4800, 9600, 19200, 38400, "
        "57600, 115200, got True",
        "devices[1] (id 'l').idle_text: expected a text to show, got ''",
        "devices[2] (id 'k').printer: expected a printer URL or \"\" for none, got 5",
        "devices[2] (id 'k').priority_entry: expected true or false, got 1",
    ]


def test_rate_limits_are_read_per_role_and_command_and_checked():
    data = raw()
    data["limits"] = {"kiosk": {"per_s": 50, "burst": 200},
                      "kiosk.issue_ticket": {"per_s": 2.5, "burst": 20},
                      "*.report_alert": {"per_s": 1, "burst": 5}}
    limits = parse_config(data, "hall.toml").limits
    assert (limits["kiosk"].per_s, limits["kiosk"].burst) == (50.0, 200)
    assert limits["kiosk.issue_ticket"].per_s == 2.5 and limits["*.report_alert"].burst == 5

    data["limits"] = {"robot": {"per_s": 1, "burst": 1}, "kiosk.fly": {"per_s": 1, "burst": 1},
                      "display": {"per_s": 0, "burst": 1}, "led": {"per_s": 1},
                      "admin": {"per_s": 1, "burst": 1.5}}
    found = problems(data)
    assert any(p.startswith("limits.robot: expected a role") for p in found)
    assert "limits.kiosk.fly: unknown command 'fly'" in found
    assert any(p.startswith("limits.display: expected per_s > 0") for p in found)
    assert "limits.led: expected a table { per_s = N, burst = N }" in found
    assert any(p.startswith("limits.admin: expected per_s > 0 and a whole burst") for p in found)
