"""Settings: declared once, read from the environment, else the config file, else the default;
a bad value is one line naming the setting; doctor and the README list every one."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from artflow import settings
from artflow.errors import SettingError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No ARTFLOW_* variable set except the test cache, and a config file path of the test's own."""
    for name in settings.SETTINGS:
        if name != "ARTFLOW_CACHE":
            monkeypatch.delenv(name, raising=False)
    config = tmp_path / "config.toml"
    monkeypatch.setenv("ARTFLOW_CONFIG", str(config))
    return config


def test_environment_beats_config_file_beats_default(clean_env: Path, monkeypatch) -> None:
    clean_env.write_text("cache_max_mb = 100\nARTFLOW_THREADS = 3\ncache_memory_mb = '7'\n")
    assert settings.get("ARTFLOW_CACHE_MAX_MB") == 100
    assert settings.source("ARTFLOW_CACHE_MAX_MB") == f"config:{clean_env}"
    assert settings.get("ARTFLOW_THREADS") == 3 and settings.get("ARTFLOW_CACHE_MEMORY_MB") == 7
    assert (settings.get("ARTFLOW_GALLERY_CACHE_MB"), settings.source("ARTFLOW_GALLERY_CACHE_MB")) == (
        64, "default")
    monkeypatch.setenv("ARTFLOW_CACHE_MAX_MB", "50")
    assert (settings.get("ARTFLOW_CACHE_MAX_MB"), settings.source("ARTFLOW_CACHE_MAX_MB")) == (50, "env")
    from artflow.cache import Cache
    from artflow.models.providers import default_threads

    cache = Cache(clean_env.parent / "cache")
    assert cache.disk is not None and cache.disk.max_bytes == 50 * 1024 * 1024
    assert cache.memory.max_bytes == 7 * 1024 * 1024
    assert default_threads() == 3
    clean_env.write_text("cache_memory_mb = 9\n")  # an edited file is read again
    os.utime(clean_env, ns=(1, 1))
    assert settings.get("ARTFLOW_CACHE_MEMORY_MB") == 9 and settings.get("ARTFLOW_THREADS") is None


@pytest.mark.parametrize(("name", "raw", "words"), [
    ("ARTFLOW_CACHE_MAX_MB", "lots", "a whole number >= 0"),
    ("ARTFLOW_MAX_PIXELS", "0", "a whole number >= 1"),
    ("ARTFLOW_GALLERY_CACHE_MB", "-1", "a whole number >= 0"),
    ("ARTFLOW_NO_PLUGINS", "maybe", "1/0 (or true/false, yes/no, on/off)"),
    ("ARTFLOW_ORT_SPIN", "fast", "auto, 0 or 1"),
    ("ARTFLOW_PLUGIN_OVERRIDES", "no-colon-here", "'dist:name,name;dist2:name'"),
])
def test_bad_environment_value_is_one_line_naming_the_setting(clean_env: Path, monkeypatch, name: str,
                                                              raw: str, words: str) -> None:
    monkeypatch.setenv(name, raw)
    with pytest.raises(SettingError) as info:
        settings.get(name)
    message = str(info.value)
    assert message.startswith(f"{name}={raw!r} (from the environment) is not {words}")
    assert "\n" not in message


def test_bad_config_value_names_the_file(clean_env: Path) -> None:
    clean_env.write_text("max_pixels = 'big'\n")
    with pytest.raises(SettingError, match=re.escape(f"ARTFLOW_MAX_PIXELS='big' (from config file "
                                                     f"{clean_env}) is not a whole number >= 1")):
        settings.get("ARTFLOW_MAX_PIXELS")


def test_config_file_with_an_unknown_key_or_bad_toml_is_one_line(clean_env: Path) -> None:
    clean_env.write_text("cache_max_bm = 1\n")
    with pytest.raises(SettingError, match="'cache_max_bm' is not a setting; did you mean 'cache_max_mb'"):
        settings.get("ARTFLOW_THREADS")
    clean_env.write_text("config = '/elsewhere.toml'\n")
    with pytest.raises(SettingError, match="'config' can only be set in the environment"):
        settings.get("ARTFLOW_THREADS")
    clean_env.write_text("threads = = 3\n")
    with pytest.raises(SettingError) as info:
        settings.get("ARTFLOW_THREADS")
    assert str(info.value).startswith(f"config file {clean_env} cannot be read: TOMLDecodeError")
    assert "\n" not in str(info.value)


def test_bad_setting_stops_the_cli_with_exit_2_and_one_line(artflow_cli) -> None:
    """Before settings were checked, a bad cache size was silently replaced by the default."""
    proc = artflow_cli("cache", "info", env={"ARTFLOW_CACHE_MAX_MB": "lots"})
    assert proc.returncode == 2
    assert proc.stderr == ("error: ARTFLOW_CACHE_MAX_MB='lots' (from the environment) is not a whole "
                           "number >= 0; fix or unset it (`artflow doctor` lists every setting)\n")


def test_plugin_overrides_parse_into_names_per_distribution(clean_env: Path, monkeypatch) -> None:
    monkeypatch.setenv("ARTFLOW_PLUGIN_OVERRIDES", "My_Pack:image.load, style:glass ;other:detector")
    assert settings.get("ARTFLOW_PLUGIN_OVERRIDES") == {
        "my-pack": frozenset({"image.load", "style:glass"}), "other": frozenset({"detector"})}
    monkeypatch.delenv("ARTFLOW_PLUGIN_OVERRIDES")
    clean_env.write_text("[plugin_overrides]\nmy-pack = ['image.load']\n")
    assert settings.get("ARTFLOW_PLUGIN_OVERRIDES") == {"my-pack": frozenset({"image.load"})}


def test_max_memory_defaults_to_half_of_physical_memory(clean_env: Path) -> None:
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert settings.get("ARTFLOW_MAX_MEMORY_MB") == total // 2 // (1024 * 1024)


def test_every_artflow_variable_the_code_uses_is_a_declared_setting_read_through_it() -> None:
    used: set[str] = set()
    direct: list[str] = []
    read = re.compile(r"""(?:environ\.get\(|getenv\(|environ\[)\s*["'](_?ARTFLOW_\w+)["']\s*(\]\s*=(?!=))?""")
    for root in (ROOT / "artflow", ROOT / "plugins"):
        for path in root.rglob("*.py"):
            if path == ROOT / "artflow" / "settings.py":
                continue
            text = path.read_text()
            used |= set(re.findall(r"\b_?ARTFLOW_[A-Z][A-Z0-9_]*[A-Z0-9]\b", text))
            direct += [f"{path.relative_to(ROOT)}: {m.group(1)}" for m in read.finditer(text)
                       if not m.group(2)]  # writes (a worker's thread settings) are fine
    assert used - set(settings.SETTINGS) == set()
    assert direct == [], "read these through artflow.settings.get"


def test_readme_table_lists_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    table = readme.split("<!-- settings table: begin -->\n", 1)[1].split("<!-- settings table: end -->")[0]
    assert table == settings.markdown_table(), "regenerate it with `python -m artflow.settings`"
    for name in settings.SETTINGS:
        assert f"| `{name}` |" in table


def test_doctor_json_lists_every_setting_with_value_and_source(artflow_cli, tmp_path: Path) -> None:
    config = tmp_path / "artflow.toml"
    config.write_text("gallery_cache_mb = 32\n")
    proc = artflow_cli("doctor", "--json", env={"ARTFLOW_THREADS": "3", "ARTFLOW_CONFIG": str(config),
                                               "ARTFLOW_THREAD": "2"})
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    listed = {s["name"]: s for s in report["settings"]}
    assert list(listed) == list(settings.SETTINGS)
    assert (listed["ARTFLOW_THREADS"]["value"], listed["ARTFLOW_THREADS"]["source"]) == (3, "env")
    assert listed["ARTFLOW_GALLERY_CACHE_MB"] | {"doc": ""} == {
        "name": "ARTFLOW_GALLERY_CACHE_MB", "value": 32, "source": f"config:{config}", "type": "int>=0",
        "default": "64", "doc": ""}
    assert listed["ARTFLOW_MAX_PIXELS"]["source"] == "default"
    assert report["config_file"] == {"path": str(config), "exists": True}
    assert "ARTFLOW_THREAD (did you mean ARTFLOW_THREADS?)" in report["unknown_settings"]
