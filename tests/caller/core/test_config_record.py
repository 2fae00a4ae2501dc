"""The hall config's keys for the rating record: [hall] region_code, each service's
事项编码 and 事项名称, and the [rating] table; each mistake names the file, the key and
what was expected."""

from __future__ import annotations

import pytest

from caller.core.config import ConfigError, parse_config
from caller.manager.stats import RankingWeights
from tests.caller.halls import BASE, raw


def problems(**sections) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(raw(**sections), path="hall.toml")
    assert "hall.toml" in str(info.value)
    return info.value.problems


def services(**first) -> list[dict]:
    return [{**BASE["services"][0], **first}, *BASE["services"][1:]]


def test_the_defaults_keep_unrated_tickets_and_code_satisfied_first():
    cfg = parse_config(raw())
    assert cfg.hall.region_code == "" and cfg.services["a"].item_code == ""
    assert cfg.rating.unrated == "keep"
    assert [cfg.rating.level_code(lv) for lv in ("very_satisfied", "very_dissatisfied")] == [1, 5]


def test_good_values_are_taken():
    cfg = parse_config(raw(hall={"name": "x", "region_code": "330106001000"},
                           services=services(item_code="000105410000", item_name="户口迁移"),
                           rating={"unrated": "default", "default_level": "satisfied",
                                   "default_after_days": 7, "code_order": "dissatisfied_first",
                                   "channel_code": "4", "ranking_weights": {"satisfaction": 30,
                                                                            "bad_rate": 10}}))
    assert cfg.hall.region_code == "330106001000"
    assert (cfg.services["a"].item_code, cfg.services["a"].item_name) == ("000105410000", "户口迁移")
    assert cfg.rating.level_code("very_satisfied") == 5
    assert RankingWeights.of_config(cfg).bad_rate == 10


@pytest.mark.parametrize("code", ["33010", "3301060", "33010600100", "33O106", "330106 ", ""])
def test_a_bad_region_code_is_refused(code):
    if code == "":
        assert parse_config(raw(hall={"name": "x", "region_code": code})).hall.region_code == ""
        return
    found = problems(hall={"name": "x", "region_code": code})
    assert any(p.startswith("hall.region_code: expected a 6- or 12-digit 行政区划代码") for p in found)


@pytest.mark.parametrize("code", ["abc", "11330106 4000", "-1", "1" * 65, "编码"])
def test_a_bad_item_code_is_refused(code):
    found = problems(services=services(item_code=code))
    assert any(p.startswith("services[0] (id 'a').item_code: expected the 事项编码") for p in found)


def test_a_bad_item_name_and_bad_rating_keys_are_each_named():
    found = problems(services=services(item_name="户口\x00迁移"),
                     rating={"unrated": "sometimes", "default_level": "好", "default_after_days": 0,
                             "code_order": "up", "channel_code": "", "ranking_weights": {"wait": -1},
                             "colour": "red"})
    keys = {p.split(":")[0] for p in found}
    assert keys == {"services[0] (id 'a').item_name", "rating.unrated", "rating.default_level",
                    "rating.default_after_days", "rating.code_order", "rating.channel_code",
                    "rating.ranking_weights.wait", "rating.colour"}


def test_ranking_weights_that_do_not_add_up_name_the_key():
    cfg = parse_config(raw(rating={"ranking_weights": {"satisfaction": 90}}), path="hall.toml")
    with pytest.raises(ConfigError, match=r"rating\.ranking_weights: ranking weights must add up to 100"):
        RankingWeights.of_config(cfg)
    cfg = parse_config(raw(rating={"ranking_weights": {"speed": 10}}), path="hall.toml")
    with pytest.raises(ConfigError, match="unknown weight 'speed'"):
        RankingWeights.of_config(cfg)


def test_check_config_refuses_weights_that_do_not_add_up(tmp_path, capsys):
    from hallq.cli import main

    path = tmp_path / "hall.toml"
    path.write_text(
        '[hall]\nname = "x"\nregion_code = "330106"\n[rating]\nranking_weights = { volume = 50 }\n'
        '[[services]]\nid = "a"\nname = "甲"\nprefix = "A"\n'
        '[[windows]]\nid = "1"\nname = "1号窗口"\nservices = { a = 1 }\n', encoding="utf-8")
    assert main(["check-config", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: rating.ranking_weights: ranking weights must add up to 100, got 120" in err
