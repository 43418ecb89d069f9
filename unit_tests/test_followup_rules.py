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


# ---- collections policy: plans, minimum amounts, holds, promises (issue 13) -----------


def _decide_before_minimums(ladder, groups, next_action_date, today):
    """``decide`` as it was before minimum amounts and promises, the reference of the
    property below."""
    total_due = sum(g.residual for g in groups)
    total_overdue = sum(g.overdue_residual for g in groups)
    if total_due <= 0:
        return r.PartnerFollowup(r.STATUS_NO_ACTION, None, total_due, total_overdue)
    reached, upcoming = [], []
    for grp in groups:
        reach = r.group_reach_date(ladder, grp)
        if reach is None:
            continue
        target = r.next_level(ladder, grp.level_delay)
        if reach <= today:
            reached.append((target, grp.level_id))
        else:
            upcoming.append(target)
    waiting = next_action_date is not None and next_action_date > today
    if reached and not waiting:
        level = max(target for target, __ in reached)
        due_level_ids = tuple(sorted({lid for __, lid in reached}, key=lambda x: (x is not None, x)))
        return r.PartnerFollowup(r.STATUS_IN_NEED, level.id, total_due, total_overdue, due_level_ids)
    status = r.STATUS_OVERDUE if total_overdue > 0 else r.STATUS_NO_ACTION
    candidates = [target for target, __ in reached] or upcoming
    level = max(candidates) if reached else (min(candidates) if candidates else None)
    return r.PartnerFollowup(status, level.id if level else None, total_due, total_overdue)


@st.composite
def customer_groups(draw, ladder):
    """Line groups of one customer: one per last level (never reminded included)."""
    levels = [None, *ladder]
    chosen = draw(st.lists(st.sampled_from(range(len(levels))), min_size=1, max_size=4, unique=True))
    groups = []
    for index in chosen:
        residual = draw(st.sampled_from([-150.0, -20.0, 3.2, 9.99, 10.0, 50.0, 400.0]))
        due_days_ago = draw(st.integers(-40, 400))
        followup = draw(st.one_of(st.none(), st.integers(0, 90))) if levels[index] else None
        overdue = residual if due_days_ago > 0 else 0.0
        reached = draw(st.one_of(st.none(), st.sampled_from([0.0, overdue])))
        groups.append(
            r.LineGroup(
                level_id=levels[index].id if levels[index] else None,
                level_delay=levels[index].delay if levels[index] else None,
                residual=residual,
                overdue_residual=overdue,
                oldest_due=TODAY - timedelta(days=due_days_ago) if residual > 0 else None,
                oldest_followup=None if followup is None else TODAY - timedelta(days=followup),
                reached_overdue=reached,
            )
        )
    return groups


@given(data=st.data(), ladder=ladders(), next_in=st.one_of(st.none(), st.integers(-10, 10)))
def test_without_minimums_nor_promises_decide_as_before(data, ladder, next_in):
    """A plan without minimum amounts and a customer without promise: exactly the decisions of
    before the collections policy (a database without a second plan behaves as before)."""
    groups = data.draw(customer_groups(ladder))
    next_date = None if next_in is None else TODAY + timedelta(days=next_in)
    assert r.decide(ladder, groups, next_date, TODAY) == _decide_before_minimums(ladder, groups, next_date, TODAY)


@given(data=st.data(), ladder=ladders(), minimum=st.sampled_from([0.01, 10.0, 50.0, 1000.0]))
def test_minimums_only_hold_back(data, ladder, minimum):
    """A minimum amount never makes a customer in need who was not, never changes its totals,
    and a customer held back by it shows the level it is held back at."""
    groups = data.draw(customer_groups(ladder))
    with_minimum = [r.Level(level.delay, level.id, minimum) for level in ladder]
    before = r.decide(ladder, groups, None, TODAY)
    after = r.decide(with_minimum, groups, None, TODAY)
    assert (after.total_due, after.total_overdue) == (before.total_due, before.total_overdue)
    if after.status == r.STATUS_IN_NEED:
        assert before.status == r.STATUS_IN_NEED
        assert after.level_id is not None
    if after.below_minimum:
        assert after.status != r.STATUS_IN_NEED
        assert after.level_id is not None


def test_minimum_just_under_and_just_over():
    ladder = [r.Level(15, 1, 10.0), r.Level(30, 2)]
    under = [group(residual=9.99, due_days_ago=20)]
    assert r.decide(ladder, under, None, TODAY) == r.PartnerFollowup(
        r.STATUS_OVERDUE, 1, 9.99, 9.99, below_minimum=True
    )
    over = [group(residual=10.0, due_days_ago=20)]
    assert r.decide(ladder, over, None, TODAY) == r.PartnerFollowup(r.STATUS_IN_NEED, 1, 10.0, 10.0, (None,))
    # 0.1 + 0.2 + ... as the database sums it: exactly the minimum
    parts = [r.LineGroup(None, None, 10.0, 10.0, TODAY - timedelta(days=20), None, 0.1 + 0.2 + 9.7)]
    assert r.decide(ladder, parts, None, TODAY).status == r.STATUS_IN_NEED


def test_minimum_counts_the_lines_that_reached_the_level():
    """Only the overdue residual of the lines that reached the level counts towards its minimum."""
    ladder = [r.Level(15, 1, 50.0)]
    grp = r.LineGroup(None, None, 530.0, 530.0, TODAY - timedelta(days=20), None, 30.0)
    assert r.decide(ladder, [grp], None, TODAY).status == r.STATUS_OVERDUE


def test_changing_plan_steps_on_by_delay():
    """Lines reminded at 15 days in one plan go on, in another plan, at its level with the
    next higher delay."""
    export = [r.Level(10, 11), r.Level(15, 12), r.Level(45, 13)]
    assert r.next_level(export, 15) == r.Level(45, 13)
    at_first = group(level=L15, due_days_ago=40, followup_days_ago=25)
    assert r.decide(export, [at_first], None, TODAY).status == r.STATUS_OVERDUE
    assert r.decide(export, [at_first], None, TODAY).level_id == 13
    assert r.decide(export, [group(level=L15, due_days_ago=45, followup_days_ago=25)], None, TODAY).status == (
        r.STATUS_IN_NEED
    )
    # beyond the last level of the new plan: its last level again, at its last gap
    assert r.decide(export, [group(level=L60, due_days_ago=100, followup_days_ago=30)], None, TODAY) == (
        r.PartnerFollowup(r.STATUS_IN_NEED, 13, 100.0, 100.0, (3,))
    )


def test_promise_holds_until_grace_days_passed():
    promised = TODAY - timedelta(days=3)
    assert r.promise_holds(promised, 3, TODAY)
    assert not r.promise_holds(promised, 2, TODAY)
    assert not r.promise_holds(None, 3, TODAY)
    groups = [group(due_days_ago=40)]
    held = r.decide(LADDER, groups, None, TODAY, promised_until=TODAY)
    assert held == r.PartnerFollowup(r.STATUS_OVERDUE, 1, 100.0, 100.0, promised_until=TODAY)
    passed = r.decide(LADDER, groups, None, TODAY, promised_until=TODAY - timedelta(days=1))
    assert passed == r.PartnerFollowup(r.STATUS_IN_NEED, 1, 100.0, 100.0, (None,))


def test_promise_outcome():
    assert r.promise_outcome(500.0, 500.0, 200.0) == "kept"
    assert r.promise_outcome(500.0, 499.99, 200.0) == "broken"
    assert r.promise_outcome(500.0, 0.0, 0.0) == "kept"  # nothing overdue any more
    assert r.promise_outcome(500.0, 0.1 + 0.2, 10.0) == "broken"


def test_hold_ended():
    assert r.hold_ended(TODAY, TODAY)
    assert not r.hold_ended(TODAY + timedelta(days=1), TODAY)
    assert not r.hold_ended(None, TODAY)


@given(data=st.data(), ladder=ladders(), promised_in=st.integers(-10, 10))
def test_promise_never_leaves_in_need(data, ladder, promised_in):
    """A promise holding the chase keeps the customer out of In need of action, and changes
    nothing else; once passed, the customer is decided as without it."""
    groups = data.draw(customer_groups(ladder))
    promised = TODAY + timedelta(days=promised_in)
    without = r.decide(ladder, groups, None, TODAY)
    held = r.decide(ladder, groups, None, TODAY, promised_until=promised)
    if promised < TODAY:
        assert held == without
    else:
        assert held.status != r.STATUS_IN_NEED
        assert (held.total_due, held.total_overdue) == (without.total_due, without.total_overdue)
