"""The follow-up rules, in one place and in plain Python.

This module has no ``odoo`` import on purpose: it holds every decision the
addon takes (which level a customer is at, whether a reminder is due, when
the next one falls) so that the rules can be read in one sitting and tested
exhaustively without a database.  Models gather the facts with one SQL
aggregation (see ``res.partner._followup_query_groups``) and apply the
decisions taken here.

Vocabulary:

- a *ladder* is the list of a company's active follow-up levels, sorted by
  delay (days after the due date, negative = before the due date);
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


@dataclass(frozen=True)
class LineGroup:
    """Open receivable lines of one customer that share a last level.

    ``level_delay`` is the delay of the last level applied to these lines
    (``None`` when they were never reminded).  The level may have been
    archived since: its delay still places the lines on the ladder.
    ``oldest_due`` and ``oldest_followup`` only consider lines with a
    positive residual: credit notes and payments never trigger a reminder.
    """

    level_id: int | None
    level_delay: int | None
    residual: float
    overdue_residual: float
    oldest_due: date | None
    oldest_followup: date | None


@dataclass(frozen=True)
class PartnerFollowup:
    """What the rules decide for one customer."""

    status: str
    level_id: int | None
    total_due: float
    total_overdue: float
    # Last levels of the lines a reminder sent today would step up.
    due_level_ids: tuple = ()


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


def decide(ladder, groups, next_action_date, today):
    """Decide a customer's status and level from its line groups.

    :param ladder: the company's active levels, sorted (see ``sort_ladder``)
    :param groups: the customer's ``LineGroup`` records
    :param next_action_date: the customer's "Next Reminder" date, or ``None``
    :param today: the user's today
    """
    total_due = sum(g.residual for g in groups)
    total_overdue = sum(g.overdue_residual for g in groups)
    if total_due <= 0:
        # Credit notes or unmatched payments cover what is open.
        return PartnerFollowup(STATUS_NO_ACTION, None, total_due, total_overdue)
    reached = []
    upcoming = []
    for group in groups:
        reach = group_reach_date(ladder, group)
        if reach is None:
            continue
        target = next_level(ladder, group.level_delay)
        if reach <= today:
            reached.append((target, group.level_id))
        else:
            upcoming.append(target)
    waiting = next_action_date is not None and next_action_date > today
    if reached and not waiting:
        level = max(target for target, __ in reached)
        due_level_ids = tuple(sorted({lid for __, lid in reached}, key=lambda x: (x is not None, x)))
        return PartnerFollowup(STATUS_IN_NEED, level.id, total_due, total_overdue, due_level_ids)
    status = STATUS_OVERDUE if total_overdue > 0 else STATUS_NO_ACTION
    candidates = [target for target, __ in reached] or upcoming
    level = max(candidates) if reached else (min(candidates) if candidates else None)
    return PartnerFollowup(status, level.id if level else None, total_due, total_overdue)


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
