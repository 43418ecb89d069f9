"""The follow-up rules, in one place and in plain Python.

This module has no ``odoo`` import on purpose: it holds every decision the
addon takes (which level a customer is at, whether a reminder is due, when
the next one falls) so that the rules can be read in one sitting and tested
exhaustively without a database.  Models gather the facts with one SQL
aggregation (see ``res.partner._followup_query_groups``) and apply the
decisions taken here.

Vocabulary:

- a *plan* is a ladder of levels a company chases some of its customers with
  (each customer follows one plan: its own, else the company's default plan);
- a *ladder* is the list of a plan's active follow-up levels, sorted by delay
  (days after the due date, negative = before the due date);
- a *group* is the aggregate of one customer's open receivable lines that
  share the same last applied level (``None`` for never-reminded lines).
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

STATUS_IN_NEED = "in_need_of_action"
STATUS_OVERDUE = "with_overdue_invoices"
STATUS_NO_ACTION = "no_action_needed"

# Days between two reminders after the last level when the ladder has a single
# level (with two levels or more, the gap between the last two is repeated).
DEFAULT_REPEAT_GAP = 14


@dataclass(frozen=True, order=True)
class Level:
    """A follow-up level as the rules see it."""

    delay: int
    id: int = field(compare=True)
    # The overdue residual the lines reaching this level must add up to (0: none).
    min_amount: float = field(default=0.0, compare=False)


@dataclass(frozen=True)
class LineGroup:
    """Open receivable lines of one customer that share a last level.

    ``level_delay`` is the delay of the last level applied to these lines
    (``None`` when they were never reminded).  The level may have been
    archived since: its delay still places the lines on the ladder.
    ``oldest_due`` and ``oldest_followup`` only consider lines with a
    positive residual: credit notes and payments never trigger a reminder.
    ``reached_overdue`` is the overdue residual of the lines of the group that
    have reached the group's next level themselves (``line_is_due``), which a
    minimum amount is checked against; ``None``: the whole ``overdue_residual``
    (the database leaves it out when no level has a minimum amount).
    """

    level_id: int | None
    level_delay: int | None
    residual: float
    overdue_residual: float
    oldest_due: date | None
    oldest_followup: date | None
    reached_overdue: float | None = None


@dataclass(frozen=True)
class PartnerFollowup:
    """What the rules decide for one customer."""

    status: str
    level_id: int | None
    total_due: float
    total_overdue: float
    # Last levels of the lines a reminder sent today would step up.
    due_level_ids: tuple = ()
    # The level is reached, but what reached it is below its minimum amount.
    below_minimum: bool = False
    # An open promise to pay holds the chase until this day (included).
    promised_until: date | None = None


def sort_ladder(levels):
    """Return the levels sorted by delay (then id, for a stable order)."""
    return sorted(levels)


def repeat_gap(ladder):
    """Days between two reminders once the last level has been sent."""
    if len(ladder) >= 2:
        gap = ladder[-1].delay - ladder[-2].delay
        if gap > 0:
            return gap
    return DEFAULT_REPEAT_GAP


def next_level(ladder, level_delay):
    """Return the level following a line's last level.

    ``None`` as ``level_delay`` means a never-reminded line: its next level is
    the first one.  A line at (or beyond) the last level gets the last level
    again: reminders repeat at the last gap.  Return ``None`` on an empty
    ladder.
    """
    if not ladder:
        return None
    if level_delay is None:
        return ladder[0]
    for level in ladder:
        if level.delay > level_delay:
            return level
    return ladder[-1]


def is_last(ladder, level_delay):
    """Tell whether a line's last level is the last of the ladder (or beyond)."""
    return bool(ladder) and level_delay is not None and level_delay >= ladder[-1].delay


def reach_date(ladder, level_delay, due_date, followup_date):
    """Return the date on which a line needs its next reminder.

    Before the last level, the next level is reached ``delay`` days after the due
    date.  After it, the last level is sent again ``repeat_gap`` days after the
    previous reminder (or ``delay`` days after the due date when the date of the
    previous reminder is unknown, e.g. a level set by hand).
    Return ``None`` when the line cannot trigger a reminder.
    """
    if not ladder or due_date is None:
        return None
    if is_last(ladder, level_delay):
        if followup_date is None:
            return due_date + timedelta(days=ladder[-1].delay)
        return followup_date + timedelta(days=repeat_gap(ladder))
    return due_date + timedelta(days=next_level(ladder, level_delay).delay)


def line_is_due(ladder, level_delay, due_date, followup_date, today):
    """Tell whether a line with a positive residual needs a reminder today."""
    reach = reach_date(ladder, level_delay, due_date, followup_date)
    return reach is not None and reach <= today


def group_reach_date(ladder, group):
    """Return the date on which the oldest line of a group needs a reminder."""
    return reach_date(ladder, group.level_delay, group.oldest_due, group.oldest_followup)


def meets_minimum(level, overdue_residual):
    """Tell whether the overdue residual of the lines reaching ``level`` is enough for it.

    Amounts are compared at 6 decimals, as the database sums them exactly.
    """
    return level.min_amount <= 0 or round(overdue_residual, 6) >= round(level.min_amount, 6)


def promise_holds(promise_date, grace_days, today):
    """Tell whether an open promise to pay on ``promise_date`` still holds the chase today."""
    return promise_date is not None and today <= promise_date + timedelta(days=grace_days or 0)


def promise_outcome(amount, paid_since, total_overdue):
    """Decide an open promise whose grace days have passed: ``"kept"`` or ``"broken"``.

    Kept when the payments received since it was recorded reach the amount promised, or
    when nothing is overdue any more.
    """
    if total_overdue <= 0 or round(paid_since, 6) >= round(amount, 6):
        return "kept"
    return "broken"


def hold_ended(hold_until, today):
    """Tell whether an excluded line with an end date counts again today."""
    return hold_until is not None and hold_until <= today


def decide(ladder, groups, next_action_date, today, promised_until=None):
    """Decide a customer's status and level from its line groups.

    :param ladder: the active levels of the customer's plan, sorted (see ``sort_ladder``)
    :param groups: the customer's ``LineGroup`` records
    :param next_action_date: the customer's "Next Reminder" date, or ``None``
    :param today: the user's today
    :param promised_until: the last day an open promise to pay holds the chase (see
        ``promise_holds``), or ``None``
    """
    total_due = sum(g.residual for g in groups)
    total_overdue = sum(g.overdue_residual for g in groups)
    if total_due <= 0:
        # Credit notes or unmatched payments cover what is open.
        return PartnerFollowup(STATUS_NO_ACTION, None, total_due, total_overdue)
    reached = {}  # target level: [overdue residual, last levels of the groups reaching it]
    upcoming = []
    for group in groups:
        reach = group_reach_date(ladder, group)
        if reach is None:
            continue
        target = next_level(ladder, group.level_delay)
        if reach <= today:
            entry = reached.setdefault(target, [0.0, set()])
            entry[0] += group.overdue_residual if group.reached_overdue is None else group.reached_overdue
            entry[1].add(group.level_id)
        else:
            upcoming.append(target)
    enough = {target: entry for target, entry in reached.items() if meets_minimum(target, entry[0])}
    below = [target for target in reached if target not in enough]
    if promised_until is not None and promised_until < today:
        promised_until = None
    waiting = (next_action_date is not None and next_action_date > today) or promised_until is not None
    if enough and not waiting:
        level = max(enough)
        due_level_ids = tuple(sorted(set().union(*(entry[1] for entry in enough.values())),
                                     key=lambda x: (x is not None, x)))
        return PartnerFollowup(STATUS_IN_NEED, level.id, total_due, total_overdue, due_level_ids,
                               promised_until=promised_until)
    status = STATUS_OVERDUE if total_overdue > 0 else STATUS_NO_ACTION
    if enough:
        level = max(enough)
    else:
        candidates = below + upcoming
        level = min(candidates) if candidates else None
    return PartnerFollowup(
        status, level.id if level else None, total_due, total_overdue,
        below_minimum=level is not None and level in below, promised_until=promised_until,
    )


def next_reminder_date(ladder, level_id, today):
    """Return the "Next Reminder" date after sending ``level_id`` today.

    It is today plus the gap to the following level, or the last gap after
    the last level.
    """
    for index, level in enumerate(ladder):
        if level.id == level_id:
            if index + 1 < len(ladder):
                return today + timedelta(days=ladder[index + 1].delay - level.delay)
            return today + timedelta(days=repeat_gap(ladder))
    return today + timedelta(days=repeat_gap(ladder))


def previous_level(ladder, level_id):
    """Return the level before ``level_id`` (``None`` for the first one).

    Setting a customer's level by hand sets its lines to the previous level,
    so that the chosen one is the next to be sent.
    """
    previous = None
    for level in ladder:
        if level.id == level_id:
            return previous
        previous = level
    raise ValueError(f"level {level_id} is not on the ladder")
