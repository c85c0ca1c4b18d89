"""The redacting formatter masks secrets passed to the logger by mistake."""
from __future__ import annotations

import io
import json

from aws_lambda_powertools import Logger

from chalicelib.observability import RedactingFormatter, redact
from tests.conftest import make_canary_key


def _logger(stream):
    return Logger(service="redaction-test", logger_formatter=RedactingFormatter(), logger_handler=_handler(stream))


def _handler(stream):
    import logging

    return logging.StreamHandler(stream)


def test_sensitive_fields_and_key_shaped_values_are_masked_in_json_lines():
    stream = io.StringIO()
    log = _logger(stream)
    anthropic, openai, gemini = (make_canary_key(p) for p in ("anthropic", "openai", "gemini"))
    log.info("saving", extra={"api_key": anthropic, "nested": {"Authorization": "Bearer abc.def.ghi"}})
    log.warning(f"oops {openai} and {gemini}", extra={"items": [openai]})
    try:
        raise ValueError(f"boom {anthropic}")
    except ValueError:
        log.exception("failed")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0]["api_key"] == "*****"
    assert lines[0]["nested"]["Authorization"] == "*****"
    assert lines[1]["message"] == "oops ***** and *****"
    assert lines[1]["items"] == ["*****"]
    for key in (anthropic, openai, gemini):
        assert key not in stream.getvalue()
    assert "boom *****" in lines[2]["exception"]


def test_redact_leaves_ordinary_values_alone():
    value = {"provider": "anthropic", "count": 3, "hint": "sk-ant-…AbCd", "flags": [True, None]}
    assert redact(value) == value
