from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from music.params import params_validate


@pytest.mark.parametrize("field,value", [
    ("duration", 4), ("duration", 121), ("top_k", -1), ("top_p", 1.5), ("temperature", 0), ("cfg_coef", 20),
    ("seed", -5), ("top_k", 2.5), ("duration", "long"),
])
def test_out_of_range_values_are_rejected_naming_the_field(field, value):
    with pytest.raises(ValidationError) as exc:
        params_validate({field: value})
    assert list(exc.value.message_dict) == [field]
    assert field in exc.value.message_dict[field][0]


def test_defaults_and_seed_recorded():
    out = params_validate({"duration": "20", "engine": "offline"})
    assert out["duration"] == 20.0 and out["top_k"] == 250 and isinstance(out["seed"], int)


def test_mbd_without_audiocraft_is_a_clear_error():
    with pytest.raises(ValidationError) as exc:
        params_validate({"engine": "musicgen", "decoder": "MultiBand_Diffusion"})
    assert "audiocraft" in exc.value.message_dict["decoder"][0]


def test_unknown_engine_rejected():
    with pytest.raises(ValidationError) as exc:
        params_validate({"engine": "magic"})
    assert "engine" in exc.value.message_dict
