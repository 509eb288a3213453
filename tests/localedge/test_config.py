"""wrangler.toml and .dev.vars are read with wrangler's inheritance rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from localedge.config import load_dev_vars, load_worker_config
from localedge.errors import ConfigError

FIXTURE = Path(__file__).parent / "fixture" / "workers"


def test_top_level_config_lists_every_binding() -> None:
    config = load_worker_config(FIXTURE / "alpha" / "wrangler.toml")
    assert config.name == "alpha"
    assert config.main == FIXTURE / "alpha" / "src" / "entry.py"
    assert config.vars == {"GREETING": "hello"}
    assert [k.binding for k in config.kv_namespaces] == ["SHARED"]
    assert [(r.binding, r.bucket_name) for r in config.r2_buckets] == [("BUCKET", "alpha-bucket")]
    assert [(d.binding, d.class_name) for d in config.durable_objects] == [("COUNTER", "Counter")]
    assert [(s.binding, s.service) for s in config.services] == [("BETA", "beta")]
    assert config.crons == ("*/5 * * * *",)
    assert config.route_paths == ("/alpha*",)
    assert config.sqlite_classes == ("Counter",)


def test_environment_sections_repeat_bindings_and_inherit_the_rest() -> None:
    config = load_worker_config(FIXTURE / "alpha" / "wrangler.toml", "staging")
    assert config.name == "alpha-staging"
    assert config.vars == {"GREETING": "hello staging"}
    assert [k.id for k in config.kv_namespaces] == ["shared-kv-staging"]
    assert config.crons == ("*/5 * * * *",)  # triggers are inherited
    assert config.route_paths == ("/alpha*",)


def test_a_missing_environment_or_field_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no \[env.qa\]"):
        load_worker_config(FIXTURE / "alpha" / "wrangler.toml", "qa")
    broken = tmp_path / "wrangler.toml"
    broken.write_text('name = "x"\n')
    with pytest.raises(ConfigError, match="missing required field 'main'"):
        load_worker_config(broken)
    broken.write_text("name = [")
    with pytest.raises(ConfigError):
        load_worker_config(broken)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A=1\n", {"A": "1"}),
        ('A="two words"\n', {"A": "two words"}),
        ("A='single $quoted'\n", {"A": "single $quoted"}),
        ('A="line\\nbreak"\n', {"A": "line\nbreak"}),
        ("# comment\n\nexport A=x=y\n", {"A": "x=y"}),
    ],
)
def test_dev_vars_use_dotenv_syntax(tmp_path: Path, text: str, expected: dict[str, str]) -> None:
    path = tmp_path / ".dev.vars"
    path.write_text(text)
    assert load_dev_vars(path) == expected


def test_dev_vars_reject_lines_without_a_key(tmp_path: Path) -> None:
    path = tmp_path / ".dev.vars"
    path.write_text("just words\n")
    with pytest.raises(ConfigError, match=":1: expected KEY=VALUE"):
        load_dev_vars(path)
    assert load_dev_vars(tmp_path / "absent") == {}
