"""Tests of the pure-Python rule of the suggested trust level (no Odoo needed)."""

from dataclasses import replace

from conftest import trust_module as t
from hypothesis import given
from hypothesis import strategies as st

DEFAULTS = t.TrustThresholds()
# Good on every figure: paid on time, never reminded, no promise broken.
GOOD = t.TrustFigures(invoices=10, paid=10)
RANK = {t.TRUST_GOOD: 0, t.TRUST_NORMAL: 1, t.TRUST_BAD: 2}


def suggest(**figures):
    return t.suggest_trust(replace(GOOD, **figures), DEFAULTS)


def test_defaults_of_the_readme():
    assert DEFAULTS == t.TrustThresholds(
        good_days=5.0, bad_days=30.0, good_late_share=20.0, bad_late_share=50.0,
        good_reminders=0.2, bad_reminders=1.0, bad_promises=2,
    )


def test_no_history_no_suggestion():
    assert t.suggest_trust(t.TrustFigures(), DEFAULTS) is None
    assert t.suggest_trust(t.TrustFigures(broken_promises=1), DEFAULTS) == t.TRUST_NORMAL
    assert t.suggest_trust(t.TrustFigures(broken_promises=2), DEFAULTS) == t.TRUST_BAD


def test_days_late_on_the_thresholds():
    assert suggest(days_late=5.0) == t.TRUST_GOOD
    assert suggest(days_late=5.01) == t.TRUST_NORMAL
    assert suggest(days_late=30.0) == t.TRUST_NORMAL
    assert suggest(days_late=30.01) == t.TRUST_BAD


def test_late_share_on_the_thresholds():
    assert suggest(late_share=20.0) == t.TRUST_GOOD
    assert suggest(late_share=20.1) == t.TRUST_NORMAL
    assert suggest(late_share=50.0) == t.TRUST_NORMAL
    assert suggest(late_share=50.1) == t.TRUST_BAD


def test_reminders_per_invoice_on_the_thresholds():
    assert suggest(reminders_per_invoice=0.2) == t.TRUST_GOOD
    assert suggest(reminders_per_invoice=0.21) == t.TRUST_NORMAL
    assert suggest(reminders_per_invoice=1.0) == t.TRUST_NORMAL
    assert suggest(reminders_per_invoice=1.01) == t.TRUST_BAD


def test_broken_promises_on_the_thresholds():
    assert suggest(broken_promises=1) == t.TRUST_NORMAL
    assert suggest(broken_promises=2) == t.TRUST_BAD
    never_bad = replace(DEFAULTS, bad_promises=0)
    assert t.suggest_trust(replace(GOOD, broken_promises=5), never_bad) == t.TRUST_NORMAL


def test_nothing_paid_yet_is_never_good():
    """Days late and the share paid late only count once something was paid."""
    assert t.suggest_trust(t.TrustFigures(invoices=3), DEFAULTS) == t.TRUST_NORMAL
    unpaid_reminded = t.TrustFigures(invoices=2, reminders_per_invoice=1.5)
    assert t.suggest_trust(unpaid_reminded, DEFAULTS) == t.TRUST_BAD


figures = st.builds(
    t.TrustFigures,
    invoices=st.integers(1, 50),
    paid=st.integers(0, 50),
    days_late=st.floats(0, 400),
    late_share=st.floats(0, 100),
    broken_promises=st.integers(0, 5),
    reminders_per_invoice=st.floats(0, 5),
)


@given(figures, st.sampled_from(["days_late", "late_share", "reminders_per_invoice", "broken_promises"]),
       st.floats(0, 100))
def test_a_worse_figure_never_improves_the_suggestion(base, name, worse_by):
    """Whatever the other figures, more days late, a larger share paid late, more reminders or
    more broken promises never give a better trust level."""
    worse_by = int(worse_by) if name == "broken_promises" else worse_by
    if name == "late_share":
        worse = replace(base, late_share=min(100.0, base.late_share + worse_by))
    else:
        worse = replace(base, **{name: getattr(base, name) + worse_by})
    assert RANK[t.suggest_trust(worse, DEFAULTS)] >= RANK[t.suggest_trust(base, DEFAULTS)]


@given(figures)
def test_good_only_within_every_good_threshold(fig):
    if t.suggest_trust(fig, DEFAULTS) == t.TRUST_GOOD:
        assert fig.paid > 0 and fig.broken_promises == 0
        assert fig.days_late <= 5.0 and fig.late_share <= 20.0 and fig.reminders_per_invoice <= 0.2
