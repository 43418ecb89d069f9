"""Load the pure-Python rules by path: importing the addon package would need Odoo."""

import importlib.util
import sys
from pathlib import Path

import pytest

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
RULES_PATH = MODELS_DIR / "followup_rules.py"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, MODELS_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _load_rules():
    return _load("followup_rules")


rules_module = _load_rules()
interest_module = _load("followup_interest")
trust_module = _load("followup_trust")


@pytest.fixture
def rules():
    return rules_module
