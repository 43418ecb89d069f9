"""Exhaustive tests of the pure-Python follow-up rules (no Odoo needed)."""

from datetime import date, timedelta

from conftest import rules_module as r
from hypothesis import given
from hypothesis import strategies as st

TODAY = date(2024, 6, 30)
L15, L30, L60 = r.Level(15, 1), r.Level(30, 2), r.Level(60, 3)
LADDER = [L15, L30, L60]


def group(level=None, residual=100.0, overdue=None, due_days_ago=0, followup_days_ago=None):
    due = TODAY - timedelta(days=due_days_ago)
    return r.LineGroup(
        level_id=level.id if level else None,
        level_delay=level.delay if level else None,
        residual=residual,
        overdue_residual=residual if overdue is None else overdue,
        oldest_due=due if residual > 0 else None,
        oldest_followup=None if followup_days_ago is None else TODAY - timedelta(days=followup_days_ago),
    )


def test_next_level():
    assert r.next_level(LADDER, None) == L15
    assert r.next_level(LADDER, 15) == L30
    assert r.next_level(LADDER, 30) == L60
    assert r.next_level(LADDER, 60) == L60  # the last level repeats
    assert r.next_level(LADDER, 20) == L30  # an archived level between two
    assert r.next_level(LADDER, 90) == L60  # an archived level after the last
    assert r.next_level([], None) is None


def test_repeat_gap():
    assert r.repeat_gap(LADDER) == 30
    assert r.repeat_gap([L15]) == r.DEFAULT_REPEAT_GAP
    assert r.repeat_gap([]) == r.DEFAULT_REPEAT_GAP


def test_first_level_reached_exactly():
    decision = r.decide(LADDER, [group(due_days_ago=15)], None, TODAY)
    assert decision == r.PartnerFollowup(r.STATUS_IN_NEED, 1, 100.0, 100.0, (None,))


def test_overdue_not_reached():
    decision = r.decide(LADDER, [group(due_days_ago=14)], None, TODAY)
    assert decision == r.PartnerFollowup(r.STATUS_OVERDUE, 1, 100.0, 100.0)


def test_not_due_yet():
    decision = r.decide(LADDER, [group(due_days_ago=-3, overdue=0.0)], None, TODAY)
    assert decision == r.PartnerFollowup(r.STATUS_NO_ACTION, 1, 100.0, 0.0)


def test_negative_delay():
    ladder = [r.Level(-5, 9), L15]
    assert r.decide(ladder, [group(due_days_ago=-5, overdue=0.0)], None, TODAY).status == r.STATUS_IN_NEED
    assert r.decide(ladder, [group(due_days_ago=-6, overdue=0.0)], None, TODAY).status == r.STATUS_NO_ACTION


def test_last_level_repeats():
    at_last = group(level=L60, due_days_ago=200, followup_days_ago=29)
    assert r.decide(LADDER, [at_last], None, TODAY).status == r.STATUS_OVERDUE
    at_last = group(level=L60, due_days_ago=200, followup_days_ago=30)
    assert r.decide(LADDER, [at_last], None, TODAY) == r.PartnerFollowup(r.STATUS_IN_NEED, 3, 100.0, 100.0, (3,))


def test_last_level_set_by_hand_without_date():
    assert r.decide(LADDER, [group(level=L60, due_days_ago=60)], None, TODAY).status == r.STATUS_IN_NEED
    assert r.decide(LADDER, [group(level=L60, due_days_ago=59)], None, TODAY).status == r.STATUS_OVERDUE


def test_next_action_date_postpones():
    groups = [group(due_days_ago=40)]
    assert r.decide(LADDER, groups, TODAY + timedelta(days=1), TODAY).status == r.STATUS_OVERDUE
    assert r.decide(LADDER, groups, TODAY, TODAY).status == r.STATUS_IN_NEED
    assert r.decide(LADDER, groups, TODAY - timedelta(days=1), TODAY).status == r.STATUS_IN_NEED


def test_credit_note_covering_balance():
    credit = r.LineGroup(None, None, -150.0, -150.0, None, None)
    decision = r.decide(LADDER, [group(due_days_ago=40), credit], None, TODAY)
    assert decision == r.PartnerFollowup(r.STATUS_NO_ACTION, None, -50.0, -50.0)


def test_credit_note_reducing_balance():
    credit = r.LineGroup(None, None, -40.0, -40.0, None, None)
    # Both are never reminded, so they share one group in the aggregation.
    merged = r.LineGroup(None, None, 60.0, 60.0, TODAY - timedelta(days=40), None)
    assert r.decide(LADDER, [merged], None, TODAY).status == r.STATUS_IN_NEED
    assert r.decide(LADDER, [group(due_days_ago=40), credit], None, TODAY).total_due == 60.0


def test_highest_reached_level_is_sent():
    groups = [group(level=L30, due_days_ago=61, followup_days_ago=31), group(due_days_ago=16)]
    decision = r.decide(LADDER, groups, None, TODAY)
    assert (decision.status, decision.level_id, decision.due_level_ids) == (r.STATUS_IN_NEED, 3, (None, 2))


def test_empty_ladder():
    assert r.decide([], [group(due_days_ago=400)], None, TODAY) == r.PartnerFollowup(
        r.STATUS_OVERDUE, None, 100.0, 100.0
    )


def test_next_reminder_date():
    assert r.next_reminder_date(LADDER, 1, TODAY) == TODAY + timedelta(days=15)
    assert r.next_reminder_date(LADDER, 2, TODAY) == TODAY + timedelta(days=30)
    assert r.next_reminder_date(LADDER, 3, TODAY) == TODAY + timedelta(days=30)


def test_previous_level():
    assert r.previous_level(LADDER, 1) is None
    assert r.previous_level(LADDER, 3) == L30


def test_line_is_due():
    assert r.line_is_due(LADDER, None, TODAY - timedelta(days=15), None, TODAY)
    assert not r.line_is_due(LADDER, None, TODAY - timedelta(days=14), None, TODAY)
    assert r.line_is_due(LADDER, 15, TODAY - timedelta(days=30), TODAY, TODAY)
    assert not r.line_is_due(LADDER, 60, TODAY - timedelta(days=300), TODAY - timedelta(days=1), TODAY)


# ---- properties ------------------------------------------------------------

delays = st.lists(st.integers(min_value=-30, max_value=365), min_size=1, max_size=6, unique=True)


@st.composite
def ladders(draw):
    return r.sort_ladder(r.Level(delay, index + 1) for index, delay in enumerate(draw(delays)))


@given(ladder=ladders(), due_days_ago=st.integers(-60, 800), level_index=st.integers(-1, 5))
def test_status_matches_line_rule(ladder, due_days_ago, level_index):
    """A single-line customer needs action exactly when its line is due."""
    level = ladder[level_index] if 0 <= level_index < len(ladder) else None
    grp = group(level=level, due_days_ago=due_days_ago, overdue=100.0 if due_days_ago > 0 else 0.0,
                followup_days_ago=0 if level else None)
    decision = r.decide(ladder, [grp], None, TODAY)
    due = r.line_is_due(ladder, grp.level_delay, grp.oldest_due, grp.oldest_followup, TODAY)
    assert (decision.status == r.STATUS_IN_NEED) == due
    if not due:
        expected = r.STATUS_OVERDUE if due_days_ago > 0 else r.STATUS_NO_ACTION
        assert decision.status == expected


@given(ladder=ladders(), level_index=st.integers(0, 5))
def test_next_level_never_goes_back(ladder, level_index):
    level = ladder[min(level_index, len(ladder) - 1)]
    following = r.next_level(ladder, level.delay)
    assert following.delay >= level.delay
    assert following.delay > level.delay or level == ladder[-1]


@given(ladder=ladders(), level_index=st.integers(0, 5))
def test_next_reminder_in_the_future(ladder, level_index):
    level = ladder[min(level_index, len(ladder) - 1)]
    assert r.next_reminder_date(ladder, level.id, TODAY) > TODAY


@given(ladder=ladders(), residuals=st.lists(st.floats(-1000, 1000, allow_nan=False), min_size=1, max_size=5))
def test_no_action_when_balance_not_positive(ladder, residuals):
    groups = [r.LineGroup(None, None, amount, amount, TODAY - timedelta(days=400), None) for amount in residuals]
    decision = r.decide(ladder, groups, None, TODAY)
    if sum(residuals) <= 0:
        assert decision.status == r.STATUS_NO_ACTION
        assert decision.level_id is None
    else:
        assert decision.status == r.STATUS_IN_NEED


@given(ladder=ladders(), due_days_ago=st.integers(-60, 800))
def test_reminder_date_sends_once(ladder, due_days_ago):
    """After a reminder, the customer is not in need again before its Next Reminder date."""
    grp = group(due_days_ago=due_days_ago)
    decision = r.decide(ladder, [grp], None, TODAY)
    if decision.status != r.STATUS_IN_NEED:
        return
    sent = r.next_level(ladder, None)
    after = group(level=sent, due_days_ago=due_days_ago, followup_days_ago=0)
    next_date = r.next_reminder_date(ladder, sent.id, TODAY)
    assert r.decide(ladder, [after], next_date, TODAY).status != r.STATUS_IN_NEED
