"""Late-payment charges, in one place and in plain Python.

Like ``followup_rules``, this module has no ``odoo`` import on purpose: it holds
the decisions about late-payment charges (which rate applies to a half-year,
how much interest an invoice has accrued, who is charged what) so that they
can be read in one sitting and property-tested without a database.  Models
gather the facts (the reference rates, the company's policy, one SQL query of
a customer's open lines and their reconciliations) and apply what is decided
here.

The computation:

- simple interest per day, actual/365 (every day counts 1/365 of the yearly
  rate, leap years included);
- on the residual of each day: a payment (or a credit note) lowers the base
  from its date on;
- from the day after the due date (or after the day up to which interest was
  already charged) to the reminder date, both included;
- at the reference rate of each half-year (the rate in force on 1 January or
  1 July) plus the margin, or at a fixed contractual rate;
- computed exactly (fractions) and rounded once per invoice, half up.

When a half-year has no reference rate, no interest is computed for the
invoice and the half-years missing are returned: never a guessed rate.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

POLICY_NONE = "none"
POLICY_STATUTORY = "statutory"
POLICY_CONTRACTUAL = "contractual"

REFERENCE_ECB = "ecb"
REFERENCE_DE_BASE = "de_base"

DAYS_IN_YEAR = 365

# The member states of the European Union (ISO 3166 codes), where directive
# 2011/7/EU applies: interest at the ECB's rate plus at least 8 points and at
# least 40 EUR fixed compensation per late invoice against businesses.
EU_COUNTRIES = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})


@dataclass(frozen=True)
class StatutoryTerms:
    """What the law of a country gives a creditor against a late payer.

    ``consumer_margin`` is ``None`` where the law has no rate over the
    reference for consumers (they are then charged no interest).
    """

    reference: str
    margin: float
    flat_compensation: float
    consumer_margin: float | None = None


# Directive 2011/7/EU art. 2(6), 3 and 6 (EU default); §288 (1), (2) and (5) BGB
# (Germany); Code de commerce L441-10 and D441-5 (France); d.lgs. 231/2002
# art. 5 and 6 (Italy); Ley 3/2004 art. 7 and 8 (Spain); loi du 2 août 2002
# art. 5 and 6 (Belgium); Burgerlijk Wetboek art. 6:119a and 6:96 (Netherlands).
# The README cites each figure.
EU_DEFAULT_TERMS = StatutoryTerms(REFERENCE_ECB, 8.0, 40.0)
STATUTORY_TERMS = {
    "DE": StatutoryTerms(REFERENCE_DE_BASE, 9.0, 40.0, consumer_margin=5.0),
    "FR": StatutoryTerms(REFERENCE_ECB, 10.0, 40.0),
    "IT": StatutoryTerms(REFERENCE_ECB, 8.0, 40.0),
    "ES": StatutoryTerms(REFERENCE_ECB, 8.0, 40.0),
    "BE": StatutoryTerms(REFERENCE_ECB, 8.0, 40.0),
    "NL": StatutoryTerms(REFERENCE_ECB, 8.0, 40.0),
}


def statutory_terms(country_code):
    """Return the ``StatutoryTerms`` of a country, or ``None`` outside the EU."""
    code = (country_code or "").upper()
    if code in STATUTORY_TERMS:
        return STATUTORY_TERMS[code]
    if code in EU_COUNTRIES:
        return EU_DEFAULT_TERMS
    return None


@dataclass(frozen=True)
class Policy:
    """A company's late-payment policy as the rules see it."""

    policy: str = POLICY_NONE
    reference: str | None = None
    margin: float = 0.0
    rate: float = 0.0  # the contractual yearly rate, in percent
    flat_compensation: float = 0.0
    charge_consumers: bool = False
    consumer_margin: float | None = None


@dataclass(frozen=True)
class RateTerms:
    """How one debtor's interest is computed: at a fixed rate or over a reference."""

    fixed_rate: float | None = None
    reference: str | None = None
    margin: float = 0.0


def interest_terms(policy, is_consumer):
    """Return the ``RateTerms`` of a debtor, or ``None`` when it owes no interest.

    Individuals are charged nothing unless the company charges consumers; then
    they owe the contractual rate, or the reference plus the consumer margin
    where the law has one (e.g. Germany, +5 points).
    """
    if policy.policy == POLICY_NONE or (is_consumer and not policy.charge_consumers):
        return None
    if policy.policy == POLICY_CONTRACTUAL:
        return RateTerms(fixed_rate=policy.rate) if policy.rate > 0 else None
    if not policy.reference:
        return None
    if is_consumer:
        if policy.consumer_margin is None:
            return None
        return RateTerms(reference=policy.reference, margin=policy.consumer_margin)
    return RateTerms(reference=policy.reference, margin=policy.margin)


def flat_compensation(policy, is_consumer, days_late, already_charged=False):
    """Return the fixed compensation a late invoice owes (once, businesses only)."""
    if is_consumer or already_charged or days_late <= 0 or policy.flat_compensation <= 0:
        return 0.0
    return policy.flat_compensation


# ---- interest ------------------------------------------------------------


def half_year_start(day):
    """Return 1 January or 1 July of the half-year ``day`` is in."""
    return date(day.year, 1 if day.month <= 6 else 7, 1)


def next_half_year_start(day):
    """Return the first day of the half-year after the one ``day`` is in."""
    start = half_year_start(day)
    return date(start.year, 7, 1) if start.month == 1 else date(start.year + 1, 1, 1)


def half_years(first, last):
    """Return the half-year starts of the days from ``first`` to ``last`` (included)."""
    starts = []
    day = half_year_start(first)
    while day <= last:
        starts.append(day)
        day = next_half_year_start(day)
    return starts


def _exact(number):
    """Return a number as a fraction of its decimal writing (0.1 is 1/10)."""
    if isinstance(number, Fraction):
        return number
    return Fraction(Decimal(str(number)))


def round_half_up(value, digits=2):
    """Round a non-negative fraction to ``digits`` decimals, half up, as a float."""
    scale = 10**digits
    scaled = _exact(value) * scale
    rounded = (scaled.numerator * 2 + scaled.denominator) // (scaled.denominator * 2)
    return float(Fraction(rounded, scale))


@dataclass(frozen=True)
class InterestPeriod:
    """Days of one invoice charged at one rate on one base."""

    first: date
    last: date
    base: Fraction
    rate: Fraction  # yearly, in percent, margin included

    @property
    def days(self):
        return (self.last - self.first).days + 1

    @property
    def interest(self):
        return self.base * self.rate / 100 * self.days / DAYS_IN_YEAR


@dataclass(frozen=True)
class Interest:
    """The interest of one invoice up to a date.

    ``amount`` is rounded (in the invoice's currency), ``exact`` is not.
    ``missing`` lists the half-years (their first day) with no reference rate:
    when it is not empty, no interest is computed (``amount`` is 0).
    """

    amount: float = 0.0
    exact: Fraction = Fraction(0)
    first: date | None = None
    last: date | None = None
    periods: tuple = ()
    missing: tuple = ()

    @property
    def days(self):
        if self.first is None:
            return 0
        return (self.last - self.first).days + 1

    def rates(self):
        """Return ``[(rate, days, interest)]``, days grouped by yearly rate in order."""
        grouped = []
        for period in self.periods:
            if grouped and grouped[-1][0] == period.rate:
                rate, days, interest = grouped[-1]
                grouped[-1] = (rate, days + period.days, interest + period.interest)
            else:
                grouped.append((period.rate, period.days, period.interest))
        return [(float(rate), days, interest) for rate, days, interest in grouped]


def base_changes(amount, payments, first, last):
    """Return ``[(first_day, last_day, base)]``: the residual of each stretch of days.

    ``payments`` are ``(date, amount)`` pairs; each lowers the base from its date
    on (a payment dated before ``first`` lowers it from the start).  Stretches
    whose base is not positive are left out.
    """
    base = _exact(amount)
    stretches = []
    start = first
    for pay_date, paid in sorted(payments):
        if pay_date > last:
            break
        if pay_date > start:
            stretches.append((start, pay_date - timedelta(days=1), base))
            start = pay_date
        base -= _exact(paid)
    stretches.append((start, last, base))
    return [stretch for stretch in stretches if stretch[2] > 0]


def compute_interest(amount, due_date, reminder_date, terms, rates=None, payments=(), charged_until=None, digits=2):
    """Return the ``Interest`` of an invoice reminded on ``reminder_date``.

    :param amount: the invoice's amount to pay (its residual before any payment)
    :param terms: the debtor's ``RateTerms`` (see ``interest_terms``)
    :param rates: ``{half-year start: rate in percent}`` of ``terms.reference``
    :param payments: ``(date, amount)`` pairs lowering the residual from their date
    :param charged_until: the last day interest was already charged for, if any
    :param digits: the decimals of the invoice's currency
    """
    first = due_date + timedelta(days=1)
    if charged_until is not None:
        first = max(first, charged_until + timedelta(days=1))
    last = reminder_date
    if terms is None or first > last:
        return Interest()
    if terms.fixed_rate is not None:
        rate_of = {start: _exact(terms.fixed_rate) for start in half_years(first, last)}
    else:
        rates = rates or {}
        missing = tuple(start for start in half_years(first, last) if start not in rates)
        if missing:
            return Interest(first=first, last=last, missing=missing)
        margin = _exact(terms.margin)
        rate_of = {start: _exact(rates[start]) + margin for start in half_years(first, last)}
    periods = []
    for stretch_first, stretch_last, base in base_changes(amount, payments, first, last):
        day = stretch_first
        while day <= stretch_last:
            period_last = min(stretch_last, next_half_year_start(day) - timedelta(days=1))
            periods.append(InterestPeriod(day, period_last, base, rate_of[half_year_start(day)]))
            day = period_last + timedelta(days=1)
    exact = sum((period.interest for period in periods), Fraction(0))
    return Interest(round_half_up(exact, digits), exact, first, last, tuple(periods))


# ---- charges of an invoice -----------------------------------------------


@dataclass(frozen=True)
class InvoiceCharges:
    """What one late invoice is charged by a reminder."""

    days_late: int
    interest: Interest = field(default_factory=Interest)
    compensation: float = 0.0

    @property
    def missing(self):
        return self.interest.missing


def invoice_charges(policy, is_consumer, amount, due_date, reminder_date, rates=None, payments=(),
                    charged_until=None, compensation_charged=False, digits=2):
    """Return the ``InvoiceCharges`` of one invoice reminded on ``reminder_date``.

    ``rates`` are the reference rates of the policy's reference (see
    ``compute_interest``); ``compensation_charged`` tells that the invoice's
    fixed compensation was already charged.
    """
    days_late = max((reminder_date - due_date).days, 0)
    terms = interest_terms(policy, is_consumer)
    interest = compute_interest(amount, due_date, reminder_date, terms, rates, payments, charged_until, digits)
    compensation = flat_compensation(policy, is_consumer, days_late, compensation_charged)
    return InvoiceCharges(days_late, interest, compensation)
