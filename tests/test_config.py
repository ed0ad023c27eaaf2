import json

import pytest

from generec.config import MediaLimits, load_config
from generec.errors import InputError


def test_override_order_defaults_file_flags(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[media]\nmax_duration_s = 30\nmax_pixels = 1000\n")
    cfg = load_config(MediaLimits, path, section="media", overrides={"max_pixels": 50, "min_frames": None})
    assert cfg.max_duration_s == 30.0  # from the file (an int widened to float)
    assert cfg.max_pixels == 50  # the flag beats the file
    assert cfg.min_frames == MediaLimits().min_frames  # default, flag not given


def test_json_config_and_unknown_key(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"max_pixel": 5}))
    with pytest.raises(InputError, match="unknown key.*max_pixel.*valid keys.*max_pixels"):
        load_config(MediaLimits, path)


def test_wrong_type_is_refused():
    with pytest.raises(InputError, match="max_pixels must be int"):
        load_config(MediaLimits, overrides={"max_pixels": "big"})


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_config(MediaLimits, tmp_path / "nope.toml")
