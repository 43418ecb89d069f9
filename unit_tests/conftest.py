"""Load the pure-Python rules by path: importing the addon package would need Odoo."""

import importlib.util
import sys
from pathlib import Path

import pytest

RULES_PATH = Path(__file__).resolve().parent.parent / "models" / "followup_rules.py"


def _load_rules():
    spec = importlib.util.spec_from_file_location("followup_rules", RULES_PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["followup_rules"] = module
    spec.loader.exec_module(module)
    return module


rules_module = _load_rules()


@pytest.fixture
def rules():
    return rules_module
