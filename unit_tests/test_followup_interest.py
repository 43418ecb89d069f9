"""Tests of the pure-Python late-payment charges (no Odoo needed)."""

from datetime import date, timedelta
from fractions import Fraction

from conftest import interest_module as i
from hypothesis import given
from hypothesis import strategies as st

ECB = {date(2024, 1, 1): 4.50, date(2024, 7, 1): 4.25, date(2025, 1, 1): 3.15, date(2025, 7, 1): 2.15}
EU = i.RateTerms(reference=i.REFERENCE_ECB, margin=8.0)
FRANCE = i.RateTerms(reference=i.REFERENCE_ECB, margin=10.0)
STATUTORY_EU = i.Policy(i.POLICY_STATUTORY, i.REFERENCE_ECB, 8.0, flat_compensation=40.0)


# ---- the figures of the issue ----------------------------------------------


def test_eu_italy_45_days():
    """10,000.00 due 2025-07-31, unpaid, reminded 2025-09-14: 45 days at 10.15 %."""
    interest = i.compute_interest(10000.0, date(2025, 7, 31), date(2025, 9, 14), EU, ECB)
    assert interest.amount == 125.14
    assert interest.days == 45
    assert (interest.first, interest.last) == (date(2025, 8, 1), date(2025, 9, 14))
    assert interest.rates() == [(10.15, 45, Fraction(10000) * Fraction("10.15") / 100 * 45 / 365)]
    assert interest.missing == ()


def test_france_45_days():
    """The same invoice in France: 45 days at 12.15 %."""
    assert i.compute_interest(10000.0, date(2025, 7, 31), date(2025, 9, 14), FRANCE, ECB).amount == 149.79


def test_across_a_half_year():
    """Due 2025-06-15, reminded 2025-07-15: 15 days at 11.15 % and 15 days at 10.15 %."""
    interest = i.compute_interest(10000.0, date(2025, 6, 15), date(2025, 7, 15), EU, ECB)
    assert interest.amount == 87.53
    assert [(rate, days) for rate, days, __ in interest.rates()] == [(11.15, 15), (10.15, 15)]


def test_germany_business_and_consumer():
    """§288 BGB: base rate + 9 points for businesses, + 5 points for consumers."""
    base = {date(2025, 7, 1): 1.27}
    business = i.compute_interest(10000.0, date(2025, 7, 31), date(2025, 9, 14),
                                  i.RateTerms(reference=i.REFERENCE_DE_BASE, margin=9.0), base)
    assert business.amount == 126.62  # 10,000 x 10.27 % x 45 / 365 = 126.616...
    consumer = i.compute_interest(10000.0, date(2025, 7, 31), date(2025, 9, 14),
                                  i.RateTerms(reference=i.REFERENCE_DE_BASE, margin=5.0), base)
    assert consumer.amount == 77.30  # 10,000 x 6.27 % x 45 / 365 = 77.301...


def test_contractual_rate():
    """A fixed yearly rate needs no reference table."""
    interest = i.compute_interest(10000.0, date(2025, 7, 31), date(2025, 9, 14), i.RateTerms(fixed_rate=12.0))
    assert interest.amount == 147.95  # 10,000 x 12 % x 45 / 365 = 147.945...


# ---- base, dates and missing rates -------------------------------------------


def test_partial_payment_lowers_the_base_from_its_date():
    """4,000.00 paid on 2025-08-16: 15 days on 10,000.00, then 30 days on 6,000.00."""
    interest = i.compute_interest(10000.0, date(2025, 7, 31), date(2025, 9, 14), EU, ECB,
                                  payments=[(date(2025, 8, 16), 4000.0)])
    assert [(p.first, p.last, p.base) for p in interest.periods] == [
        (date(2025, 8, 1), date(2025, 8, 15), 10000),
        (date(2025, 8, 16), date(2025, 9, 14), 6000),
    ]
    assert interest.amount == 91.77  # (10,000 x 15 + 6,000 x 30) x 10.15 % / 365 = 91.767...
    assert interest.rates() == [(10.15, 45, interest.exact)]


def test_payment_before_the_due_date_lowers_the_whole_base():
    interest = i.compute_interest(10000.0, date(2025, 7, 31), date(2025, 9, 14), EU, ECB,
                                  payments=[(date(2025, 7, 10), 5000.0)])
    assert interest.amount == 62.57  # 5,000 x 10.15 % x 45 / 365 = 62.568...


def test_payment_after_the_reminder_is_ignored():
    late = i.compute_interest(10000.0, date(2025, 7, 31), date(2025, 9, 14), EU, ECB,
                              payments=[(date(2025, 9, 15), 10000.0)])
    assert late.amount == 125.14


def test_paid_on_time():
    interest = i.compute_interest(10000.0, date(2025, 7, 31), date(2025, 9, 14), EU, ECB,
                                  payments=[(date(2025, 7, 31), 10000.0)])
    assert (interest.amount, interest.periods) == (0.0, ())


def test_not_late():
    assert i.compute_interest(10000.0, date(2025, 7, 31), date(2025, 7, 31), EU, ECB) == i.Interest()
    assert i.compute_interest(10000.0, date(2025, 7, 31), date(2025, 7, 1), EU, ECB) == i.Interest()


def test_first_day_late():
    interest = i.compute_interest(10000.0, date(2025, 7, 31), date(2025, 8, 1), EU, ECB)
    assert (interest.days, interest.amount) == (1, 2.78)  # 10,000 x 10.15 % / 365 = 2.780...


def test_missing_half_year_gives_no_interest():
    """No rate for 2026-01-01: the reminder says so, and no interest at all is computed."""
    interest = i.compute_interest(10000.0, date(2025, 12, 1), date(2026, 1, 20), EU, ECB)
    assert interest.missing == (date(2026, 1, 1),)
    assert (interest.amount, interest.exact, interest.periods) == (0.0, 0, ())
    assert interest.days == 50


def test_missing_rate_does_not_matter_with_a_fixed_rate():
    interest = i.compute_interest(10000.0, date(2025, 12, 1), date(2026, 1, 20), i.RateTerms(fixed_rate=10.0))
    assert (interest.missing, interest.amount) == ((), 136.99)  # 10,000 x 10 % x 50 / 365 = 136.986...


def test_charged_until_starts_the_next_charge():
    """Interest charged up to 2025-08-15: the next reminder charges from 2025-08-16."""
    interest = i.compute_interest(10000.0, date(2025, 7, 31), date(2025, 9, 14), EU, ECB,
                                  charged_until=date(2025, 8, 15))
    assert (interest.first, interest.days, interest.amount) == (date(2025, 8, 16), 30, 83.42)
    already = i.compute_interest(10000.0, date(2025, 7, 31), date(2025, 9, 14), EU, ECB,
                                 charged_until=date(2025, 9, 14))
    assert already == i.Interest()


def test_leap_year_counts_365_days():
    rates = {date(2024, 1, 1): 0.0, date(2024, 7, 1): 0.0}
    interest = i.compute_interest(365.0, date(2023, 12, 31), date(2024, 12, 31),
                                  i.RateTerms(reference=i.REFERENCE_ECB, margin=10.0), rates)
    assert (interest.days, interest.amount) == (366, 36.6)


def test_rounding_half_up():
    assert i.round_half_up(Fraction(5, 1000)) == 0.01
    assert i.round_half_up(Fraction(4999, 1000000)) == 0.0
    assert i.round_half_up(Fraction(125, 10), digits=0) == 13.0
    assert i.round_half_up(Fraction(1, 3), digits=3) == 0.333


def test_half_years():
    assert i.half_year_start(date(2025, 6, 30)) == date(2025, 1, 1)
    assert i.half_year_start(date(2025, 7, 1)) == date(2025, 7, 1)
    assert i.next_half_year_start(date(2025, 12, 31)) == date(2026, 1, 1)
    assert i.half_years(date(2024, 6, 30), date(2025, 1, 1)) == [date(2024, 1, 1), date(2024, 7, 1), date(2025, 1, 1)]


# ---- policy: who is charged what -------------------------------------------------


def test_statutory_terms_by_country():
    assert i.statutory_terms("DE") == i.StatutoryTerms(i.REFERENCE_DE_BASE, 9.0, 40.0, 5.0)
    assert i.statutory_terms("fr") == i.StatutoryTerms(i.REFERENCE_ECB, 10.0, 40.0)
    for code in ("IT", "ES", "BE", "NL", "AT", "PL"):
        assert i.statutory_terms(code) == i.StatutoryTerms(i.REFERENCE_ECB, 8.0, 40.0), code
    assert i.statutory_terms("US") is None
    assert i.statutory_terms("CH") is None
    assert i.statutory_terms(False) is None
    assert len(i.EU_COUNTRIES) == 27


def test_interest_terms():
    assert i.interest_terms(i.Policy(), False) is None
    assert i.interest_terms(STATUTORY_EU, False) == EU
    assert i.interest_terms(STATUTORY_EU, True) is None  # consumers are not charged
    charged = i.Policy(i.POLICY_STATUTORY, i.REFERENCE_ECB, 8.0, charge_consumers=True)
    assert i.interest_terms(charged, True) is None  # no consumer margin in the law
    german = i.Policy(i.POLICY_STATUTORY, i.REFERENCE_DE_BASE, 9.0, charge_consumers=True, consumer_margin=5.0)
    assert i.interest_terms(german, True) == i.RateTerms(reference=i.REFERENCE_DE_BASE, margin=5.0)
    assert i.interest_terms(german, False) == i.RateTerms(reference=i.REFERENCE_DE_BASE, margin=9.0)
    contract = i.Policy(i.POLICY_CONTRACTUAL, rate=12.0, charge_consumers=True)
    assert i.interest_terms(contract, True) == i.RateTerms(fixed_rate=12.0)
    assert i.interest_terms(i.Policy(i.POLICY_CONTRACTUAL), False) is None


def test_flat_compensation_once_and_businesses_only():
    assert i.flat_compensation(STATUTORY_EU, False, 45) == 40.0
    assert i.flat_compensation(STATUTORY_EU, False, 45, already_charged=True) == 0.0
    assert i.flat_compensation(STATUTORY_EU, False, 0) == 0.0
    consumers = i.Policy(i.POLICY_STATUTORY, i.REFERENCE_ECB, 8.0, flat_compensation=40.0, charge_consumers=True)
    assert i.flat_compensation(consumers, True, 45) == 0.0


def test_invoice_charges():
    charges = i.invoice_charges(STATUTORY_EU, False, 10000.0, date(2025, 7, 31), date(2025, 9, 14), ECB)
    assert (charges.days_late, charges.interest.amount, charges.compensation, charges.missing) == (45, 125.14, 40.0, ())
    consumer = i.invoice_charges(STATUTORY_EU, True, 10000.0, date(2025, 7, 31), date(2025, 9, 14), ECB)
    assert (consumer.days_late, consumer.interest.amount, consumer.compensation) == (45, 0.0, 0.0)


# ---- properties -------------------------------------------------------------------

DUE = date(2024, 3, 10)
RATES = {start: rate for start, rate in zip(i.half_years(date(2024, 1, 1), date(2027, 12, 31)),
                                             [4.5, 4.25, 3.15, 2.15, 2.0, 1.75, 3.0, 0.0], strict=True)}
amounts = st.decimals(min_value="0.01", max_value="10000000", places=2).map(float)
days = st.integers(min_value=0, max_value=1300)
margins = st.sampled_from([0.0, 5.0, 8.0, 9.0, 10.0])


def _interest(amount, late_days, margin=8.0, **kwargs):
    terms = i.RateTerms(reference=i.REFERENCE_ECB, margin=margin)
    return i.compute_interest(amount, DUE, DUE + timedelta(days=late_days), terms, RATES, **kwargs)


@given(amount=amounts, late=days, more=st.integers(0, 200), margin=margins)
def test_monotone_in_days(amount, late, more, margin):
    assert _interest(amount, late, margin).exact <= _interest(amount, min(late + more, 1300), margin).exact


@given(amount=amounts, extra=amounts, late=days, margin=margins)
def test_monotone_in_amount(amount, extra, late, margin):
    smaller, larger = _interest(amount, late, margin), _interest(amount + extra, late, margin)
    assert smaller.exact <= larger.exact
    assert smaller.amount <= larger.amount


@given(amount=amounts, split=days, more=days, margin=margins)
def test_additive_over_time(amount, split, more, margin):
    """Charging up to a date, then from there, adds up to charging at once (exactly)."""
    total = min(split + more, 1300)  # within the rate table
    split = min(split, total)
    whole = _interest(amount, total, margin)
    first = _interest(amount, split, margin)
    rest = _interest(amount, total, margin, charged_until=DUE + timedelta(days=split))
    assert first.exact + rest.exact == whole.exact


@given(amount=amounts, late=days, margin=margins)
def test_additive_over_half_years(amount, late, margin):
    """The interest is the sum, over half-years, of base x (rate + margin) x days / 365."""
    interest = _interest(amount, late, margin)
    by_half_year = {}
    for period in interest.periods:
        start = i.half_year_start(period.first)
        assert i.half_year_start(period.last) == start  # no period straddles two half-years
        by_half_year[start] = by_half_year.get(start, 0) + period.days
    expected = sum(
        (Fraction(str(amount)) * (Fraction(str(RATES[start])) + Fraction(str(margin))) / 100 * n / 365
         for start, n in by_half_year.items()),
        Fraction(0),
    )
    assert interest.exact == expected
    assert sum(by_half_year.values()) == late


@given(amount=amounts, late=days, paid_before=st.integers(0, 60))
def test_zero_when_paid_on_time(amount, late, paid_before):
    interest = _interest(amount, late, payments=[(DUE - timedelta(days=paid_before), amount)])
    assert (interest.amount, interest.exact) == (0.0, 0)


@given(amount=amounts, late=st.integers(1, 1300), paid=st.integers(1, 1300), share=st.fractions(0, 1))
def test_payment_never_raises_interest(amount, late, paid, share):
    payment = [(DUE + timedelta(days=paid), round(amount * float(share), 2))]
    assert _interest(amount, late, payments=payment).exact <= _interest(amount, late).exact


@given(amount=amounts, late=st.integers(1, 1300))
def test_rounded_once(amount, late):
    interest = _interest(amount, late)
    assert abs(Fraction(str(interest.amount)) - interest.exact) <= Fraction(1, 200)


@given(amount=amounts, late=st.integers(1392, 3000))
def test_beyond_the_table_no_interest(amount, late):
    """Reminded after the last half-year of the table: no interest, the half-years missing named."""
    interest = _interest(amount, late)
    assert (interest.amount, interest.periods) == (0.0, ())
    assert interest.missing and all(start.year >= 2028 for start in interest.missing)
