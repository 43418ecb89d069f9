"""The suggested trust level of a customer, in plain Python (no ``odoo`` import).

``res.partner`` gathers a customer's figures of the last 12 months in one SQL query
(``res_partner_trust.py``) and the company gives the thresholds; the rule below
turns them into a suggestion: good, normal or bad debtor.
"""

from dataclasses import dataclass

TRUST_GOOD = "good"
TRUST_NORMAL = "normal"
TRUST_BAD = "bad"

# Days of history the figures are taken from.
HISTORY_DAYS = 365


@dataclass(frozen=True)
class TrustFigures:
    """What a customer did in the last 12 months, on its invoices due in that time.

    ``days_late``: average days between due date and payment in full of its paid invoices,
    weighted by their amounts; ``late_share``: percentage of its paid invoices paid after
    their due date; ``broken_promises``: promises to pay broken; ``reminders_per_invoice``:
    reminders its invoices needed, per invoice.
    """

    invoices: int = 0
    paid: int = 0
    days_late: float = 0.0
    late_share: float = 0.0
    broken_promises: int = 0
    reminders_per_invoice: float = 0.0


@dataclass(frozen=True)
class TrustThresholds:
    """The company's thresholds (defaults: the README's).

    Good: at most ``good_days`` days late on average, at most ``good_late_share`` % paid late,
    at most ``good_reminders`` reminders per invoice and no broken promise. Bad: more than
    ``bad_days`` days late, more than ``bad_late_share`` % paid late, more than
    ``bad_reminders`` reminders per invoice or at least ``bad_promises`` broken promises.
    Normal otherwise.
    """

    good_days: float = 5.0
    bad_days: float = 30.0
    good_late_share: float = 20.0
    bad_late_share: float = 50.0
    good_reminders: float = 0.2
    bad_reminders: float = 1.0
    bad_promises: int = 2


def has_history(figures):
    """Tell whether the figures say anything: an invoice due in the period or a broken promise."""
    return figures.invoices > 0 or figures.broken_promises > 0


def suggest_trust(figures, thresholds):
    """Return the trust level the figures suggest (``TRUST_*``), ``None`` without history.

    A figure on a threshold is on its lenient side: exactly ``good_days`` days late is still
    good, exactly ``bad_days`` not yet bad.  Days late and the share paid late only count
    once an invoice was paid.
    """
    if not has_history(figures):
        return None
    paid = figures.paid > 0
    if (
        (paid and figures.days_late > thresholds.bad_days)
        or (paid and figures.late_share > thresholds.bad_late_share)
        or figures.reminders_per_invoice > thresholds.bad_reminders
        or (thresholds.bad_promises > 0 and figures.broken_promises >= thresholds.bad_promises)
    ):
        return TRUST_BAD
    if (
        paid
        and figures.days_late <= thresholds.good_days
        and figures.late_share <= thresholds.good_late_share
        and figures.reminders_per_invoice <= thresholds.good_reminders
        and figures.broken_promises == 0
    ):
        return TRUST_GOOD
    return TRUST_NORMAL
