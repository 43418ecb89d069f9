# The status engine's SQL of res.partner, in its own file: the one aggregation of the
# open lines that followup_rules decides from (res_partner.py holds the fields that use it).
# pylint: disable=consider-merging-classes-inherited
from odoo import api, fields, models
from odoo.tools import SQL

from . import followup_rules

# A line's due date (its date when it has none), in the queries over the open lines (``line``)
LINE_DUE = SQL("COALESCE(line.date_maturity, line.date)")


class ResPartner(models.Model):
    """The SQL of the follow-up status: the company's open lines, their groups by customer
    and level, the reached levels and targets, the statuses searched. One aggregation per
    request; ``followup_rules`` decides from its rows (see res_partner.py)."""

    _inherit = "res.partner"

    @api.model
    def _followup_open_lines_sql(self, company, partner_ids=None, join=None):
        """Return the ``FROM ... WHERE`` of the company's open lines, as ``line``.

        The lines of `_get_followup_open_lines`: excluded lines and lines with nothing
        left are left out.  Pending changes are flushed first.

        :param join: an SQL join on ``line`` to add (e.g. the plans of the customers)
        """
        self.env["account.move.line"].flush_model(
            ["partner_id", "followup_level_id", "amount_residual", "date_maturity", "date",
             "followup_date", "company_id", "account_id", "parent_state", "reconciled", "blocked",
             "followup_hold_until"]
        )
        self.env["ir.property"].flush_model()
        # A sub-select rather than a join: PostgreSQL then estimates the lines well and
        # reads them from account_move_line_followup_open_idx alone (see account.move.line).
        receivable_ids = (
            self.env["account.account"]
            .sudo()  # ids only, to recognise the receivable lines of the company
            ._search([("account_type", "=", "asset_receivable"), ("non_trade", "=", False)])
        )
        return SQL(
            """
              FROM account_move_line line
                   %s
             WHERE line.company_id = %s
               AND line.account_id = ANY(ARRAY(%s))
               AND line.parent_state = 'posted'
               AND line.reconciled IS NOT TRUE
               -- an excluded line counts again from the day its exclusion ends
               AND (line.blocked IS NOT TRUE OR line.followup_hold_until <= %s)
               AND line.partner_id IS NOT NULL
               -- Lines with nothing left to pay change no decision (they add nothing to the
               -- sums and every date ignores them): leaving them out keeps the index small.
               AND line.amount_residual <> 0
               %s
            """,
            join or SQL(),
            company.id,
            receivable_ids.subselect(),
            fields.Date.context_today(self),
            SQL("AND line.partner_id = ANY(%s)", list(partner_ids)) if partner_ids is not None else SQL(),
        )

    @api.model
    def _followup_level_case(self, delays, value_of_level):
        """Return ``CASE line.followup_level_id WHEN <id> THEN <value> ... END``.

        :param dict delays: ``{level id: delay}`` of the company's levels
        :param value_of_level: ``function(level id, delay) -> value or None`` (left out)
        """
        whens = [
            SQL("WHEN %s THEN %s", level_id, value)
            for level_id, delay in sorted(delays.items())
            if (value := value_of_level(level_id, delay)) is not None
        ]
        return SQL("CASE line.followup_level_id %s END", SQL(" ").join(whens)) if whens else SQL("NULL::int")

    @api.model
    def _followup_ageing_columns_sql(self, today):
        """Return the five ageing sums of the open lines, in company currency, as columns
        ``ageing_not_due, ageing_1_30, ageing_31_60, ageing_61_90, ageing_over_90``: each
        line by the days past its due date (or its date) on ``today``; together they make
        the customer's total due."""
        days = SQL("(%s - %s)", today, LINE_DUE)
        buckets = (
            ("ageing_not_due", SQL("%s <= 0", days)),
            ("ageing_1_30", SQL("%s BETWEEN 1 AND 30", days)),
            ("ageing_31_60", SQL("%s BETWEEN 31 AND 60", days)),
            ("ageing_61_90", SQL("%s BETWEEN 61 AND 90", days)),
            ("ageing_over_90", SQL("%s > 90", days)),
        )
        return SQL(", ").join(
            SQL("COALESCE(SUM(line.amount_residual) FILTER (WHERE %s), 0) AS %s", condition, SQL.identifier(name))
            for name, condition in buckets
        )

    @api.model
    def _followup_ageing_sql(self, company, today):
        """Return the query of ``partner_id`` and the five ageing sums
        (`_followup_ageing_columns_sql`) of every customer with open lines in the company."""
        return SQL(
            "SELECT line.partner_id, %s %s GROUP BY line.partner_id",
            self._followup_ageing_columns_sql(today),
            self._followup_open_lines_sql(company),
        )

    @api.model
    def _followup_groups_sql(self, company, today, delays, partner_ids=None, ageing=False):
        """Return the query of the customers' line groups and next reminder dates, for the
        decisions taken in Python (`_followup_query_groups`: the customers shown).

        The open receivable lines of the company, aggregated by customer and last level
        (see ``followup_rules.LineGroup``), with the customer's "Next Reminder" date,
        whether its last reminder failed, its plan (its own, else the company's default plan)
        and the last day an open promise to pay holds the chase: ``partner_id, level_id,
        level_delay, residual, overdue, oldest_due, oldest_followup, reached_overdue,
        next_date, failed, plan_id, promised_until``.

        ``reached_overdue`` (see ``followup_rules.LineGroup``) only when a level of the
        company has a minimum amount (else ``NULL``).  The searches over every customer do
        not make these groups (see `_followup_decision_sql`).

        :param dict delays: ``{level id: delay}`` of the company's levels
        :param bool ageing: add the group's five ageing sums (`_followup_ageing_columns_sql`)
            after ``reached_overdue``
        """
        reached_overdue, line_plan_join = self._followup_reached_overdue_sql(company, today, delays)
        return SQL(
            """
            WITH line_groups AS (
                SELECT line.partner_id,
                       line.followup_level_id,
                       %(level_delay)s AS level_delay,
                       SUM(line.amount_residual) AS residual,
                       COALESCE(SUM(line.amount_residual)
                           FILTER (WHERE COALESCE(line.date_maturity, line.date) < %(today)s), 0) AS overdue,
                       MIN(COALESCE(line.date_maturity, line.date))
                           FILTER (WHERE line.amount_residual > 0) AS oldest_due,
                       CASE WHEN BOOL_OR(line.followup_date IS NULL) FILTER (WHERE line.amount_residual > 0)
                            THEN NULL
                            ELSE MIN(line.followup_date) FILTER (WHERE line.amount_residual > 0)
                       END AS oldest_followup,
                       %(reached_overdue)s AS reached_overdue
                       %(ageing)s
                %(lines)s
              GROUP BY line.partner_id, line.followup_level_id
            )
            SELECT line_groups.*, prop.value_datetime::date AS next_date,
                   COALESCE(failed.value_integer, 0) = 1 AS failed,
                   %(plan_id)s AS plan_id,
                   promised.promised_until
              FROM line_groups
              %(next_date_join)s
              %(failed_join)s
              %(plan_join)s
              %(promised_join)s
            """,
            level_delay=self._followup_level_case(delays, lambda level_id, delay: delay),
            today=today,
            reached_overdue=reached_overdue,
            ageing=SQL(", %s", self._followup_ageing_columns_sql(today)) if ageing else SQL(),
            lines=self._followup_open_lines_sql(company, partner_ids, join=line_plan_join),
            next_date_join=self._followup_next_date_join(company, SQL("line_groups.partner_id")),
            failed_join=self._followup_property_join(
                company, "followup_failed", "failed", SQL("line_groups.partner_id")
            ),
            **self._followup_plan_sql(company, SQL("line_groups.partner_id")),
            promised_join=self._followup_promised_join(company, today, SQL("line_groups.partner_id")),
        )

    @api.model
    def _followup_promised_join(self, company, today, partner_id):
        """Return the join of the customers an open promise to pay holds today, as ``promised``
        (``promised_until``: the last day it holds, see ``followup_rules.promise_holds``)."""
        self.env["account.followup.promise"].flush_model(["partner_id", "company_id", "state", "date_deadline"])
        return SQL(
            """
            LEFT JOIN (SELECT partner_id, MAX(date_deadline) AS promised_until
                         FROM account_followup_promise
                        WHERE company_id = %s AND state = 'open' AND date_deadline >= %s
                     GROUP BY partner_id) AS promised
                   ON promised.partner_id = %s
            """,
            company.id,
            today,
            partner_id,
        )

    @api.model
    def _followup_reached_overdue_sql(self, company, today, delays):
        """Return the aggregate of the overdue residual of the lines that reached the next level
        of their group themselves (``followup_rules.line_is_due`` in the ladder of the customer's
        plan), and the join of the customers' plans it needs; ``NULL`` when no level of the
        company has a minimum amount (nothing then needs it).
        """
        default_plan_id, ladders, __ = self.env["account.followup.level"]._get_plan_ladders(company)
        if not any(level.min_amount > 0 for ladder in ladders.values() for level in ladder):
            return SQL("NULL::numeric"), None

        def line_is_due(ladder):
            """``followup_rules.line_is_due`` of the line, for each last level it may have."""
            whens = [
                SQL("WHEN %s THEN %s", level_id, self._followup_line_is_due_sql(ladder, delay, today))
                for level_id, delay in sorted(delays.items())
            ]
            return SQL(
                "CASE line.followup_level_id %s ELSE %s END",
                SQL(" ").join(whens), self._followup_line_is_due_sql(ladder, None, today),
            )

        line_plans = {plan_id: ladder for plan_id, ladder in sorted(ladders.items()) if ladder}
        if not line_plans:
            return SQL("NULL::numeric"), None
        join = None
        if len(ladders) <= 1:
            reached = line_is_due(line_plans[default_plan_id]) if default_plan_id in line_plans else SQL("FALSE")
        else:
            field = self.env["ir.model.fields"]._get("res.partner", "followup_plan_id")
            join = SQL(
                """
                LEFT JOIN (SELECT CAST(SUBSTRING(res_id FROM %(partner_start)s) AS integer) AS partner_id,
                                  CAST(SUBSTRING(value_reference FROM %(plan_start)s) AS integer) AS plan_id
                             FROM ir_property
                            WHERE fields_id = %(field)s AND company_id = %(company)s
                              AND value_reference IS NOT NULL) AS line_plan
                       ON line_plan.partner_id = line.partner_id
                """,
                partner_start=len("res.partner,") + 1,
                plan_start=len("account.followup.plan,") + 1,
                field=field.id,
                company=company.id,
            )
            reached = SQL(
                "CASE COALESCE(line_plan.plan_id, %s) %s END",
                default_plan_id,
                SQL(" ").join(SQL("WHEN %s THEN %s", plan_id, line_is_due(ladder))
                              for plan_id, ladder in line_plans.items()),
            )
        return (
            SQL(
                "COALESCE(SUM(line.amount_residual) FILTER (WHERE %s < %s AND %s), 0)",
                LINE_DUE, today, reached,
            ),
            join,
        )

    @api.model
    def _followup_line_is_due_sql(self, ladder, level_delay, today):
        """Return ``followup_rules.line_is_due`` of the line (``line``) whose last level has the
        delay ``level_delay`` (``None``: never reminded), in ``ladder``."""
        if followup_rules.is_last(ladder, level_delay):
            return SQL(
                "CASE WHEN line.followup_date IS NULL THEN %s + %s ELSE line.followup_date + %s END <= %s",
                LINE_DUE, ladder[-1].delay, followup_rules.repeat_gap(ladder), today,
            )
        return SQL("%s + %s <= %s", LINE_DUE, followup_rules.next_level(ladder, level_delay).delay, today)

    @api.model
    def _followup_plan_sql(self, company, partner_id):
        """Return ``{"plan_id": expression, "plan_join": join}``: the customers' follow-up plan
        (company-dependent, else the company's default plan); no join while the company has a
        single plan."""
        default_plan_id, ladders, __ = self.env["account.followup.level"]._get_plan_ladders(company)
        if len(ladders) <= 1:
            return {"plan_id": SQL("%s::int", default_plan_id), "plan_join": SQL()}
        return {
            # "account.followup.plan,42" -> 42
            "plan_id": SQL(
                "COALESCE(CAST(SUBSTRING(plan_prop.value_reference FROM %s) AS integer), %s)",
                len("account.followup.plan,") + 1,
                default_plan_id,
            ),
            "plan_join": self._followup_property_join(company, "followup_plan_id", "plan_prop", partner_id),
        }

    @api.model
    def _followup_next_date_join(self, company, partner_id):
        """Return the join of the customers' "Next Reminder" date (company-dependent) as ``prop``."""
        return self._followup_property_join(company, "followup_next_action_date", "prop", partner_id)

    @api.model
    def _followup_property_join(self, company, fname, alias, partner_id):
        """Return the join of a company-dependent field of the customers, as ``alias``."""
        field = self.env["ir.model.fields"]._get("res.partner", fname)
        return SQL(
            """
            LEFT JOIN ir_property %(alias)s
                   ON %(fields_id)s = %(field)s
                  AND %(company_id)s = %(company)s
                  AND %(res_id)s = 'res.partner,' || %(partner_id)s
            """,
            alias=SQL.identifier(alias),
            fields_id=SQL.identifier(alias, "fields_id"),
            field=field.id,
            company_id=SQL.identifier(alias, "company_id"),
            company=company.id,
            res_id=SQL.identifier(alias, "res_id"),
            partner_id=partner_id,
        )

    @api.model
    def _followup_query_groups(self, company, today, delays, partner_ids=None):
        """Aggregate the open receivable lines of the company, by customer and last level.

        One query for any number of customers: the rules then decide per customer from
        a few rows each, never from the move lines themselves.

        :return: ``({partner_id: [LineGroup]}, {partner_id: next reminder date},
            {partner_id whose last reminder failed}, {partner_id: plan id},
            {partner_id: last day an open promise to pay holds the chase, or None},
            {partner_id: [not due, 1-30, 31-60, 61-90, over 90 days]})``: the ageing of the
            Follow-up Reports comes from the same query as the statuses
        """
        self.env.cr.execute(self._followup_groups_sql(company, today, delays, partner_ids, ageing=True))
        groups = {}
        next_dates = {}
        failed = set()
        plans = {}
        promised = {}
        ageing = {}
        for (partner_id, level_id, level_delay, residual, overdue, oldest_due, oldest_followup, reached_overdue,
             *buckets, next_date, fail, plan_id, promised_until) in self.env.cr.fetchall():
            partner_ageing = ageing.setdefault(partner_id, [0.0] * len(buckets))
            for index, amount in enumerate(buckets):
                partner_ageing[index] += amount
            groups.setdefault(partner_id, []).append(
                followup_rules.LineGroup(
                    level_id, level_delay, residual, overdue, oldest_due, oldest_followup, reached_overdue
                )
            )
            next_dates[partner_id] = next_date
            plans[partner_id] = plan_id
            promised[partner_id] = promised_until
            if fail:
                failed.add(partner_id)
        return groups, next_dates, failed, plans, promised, ageing

    @api.model
    def _followup_status_sql(self, statuses, level_ids=None):
        """Return the query of the customers of the current company whose status is in ``statuses``
        (and, with ``level_ids``, whose next level is one of them: the cron's candidates).

        The rules of ``followup_rules.decide``, in SQL, for searches over every customer
        (the Follow-up Reports, the cron): one pass over the open lines in the order of
        account_move_line_followup_open_idx, grouped by customer only, nothing sent to
        Python; whatever the plans and minimum amounts (`_followup_decision_sql`).  Customers
        without open lines are not in it.  ``tests/test_followup_scale.py`` proves that it
        decides as the rules do.
        """
        company = self.env.company
        today = fields.Date.context_today(self)
        aggregates = {}
        decision = self._followup_decision_sql(company, today, aggregates, level=level_ids is not None)
        plan = self._followup_plan_sql(company, SQL("partners.partner_id"))
        return SQL(
            """
            (WITH partners AS (%(partners)s),
                  decisions AS (
                SELECT partners.partner_id,
                       CASE
                           WHEN partners.residual <= 0 THEN %(no_action)s
                           WHEN %(enough)s
                                AND NOT COALESCE(prop.value_datetime::date > %(today)s, FALSE)
                                AND promised.partner_id IS NULL THEN %(in_need)s
                           WHEN partners.overdue > 0 THEN %(overdue)s
                           ELSE %(no_action)s
                       END AS status,
                       %(level)s AS level_id
                  FROM partners
                  %(next_date_join)s
                  %(plan_join)s
                  %(promised_join)s
            )
            SELECT partner_id FROM decisions WHERE status = ANY(%(statuses)s) %(of_levels)s)
            """,
            partners=self._followup_partners_sql(company, today, aggregates),
            today=today,
            enough=decision["enough"],
            level=decision["level"],
            next_date_join=self._followup_next_date_join(company, SQL("partners.partner_id")),
            plan_join=plan["plan_join"],
            promised_join=self._followup_promised_join(company, today, SQL("partners.partner_id")),
            no_action=followup_rules.STATUS_NO_ACTION,
            in_need=followup_rules.STATUS_IN_NEED,
            overdue=followup_rules.STATUS_OVERDUE,
            statuses=list(statuses),
            of_levels=SQL("AND level_id = ANY(%s)", list(level_ids)) if level_ids is not None else SQL(),
        )

    @api.model
    def _followup_level_sql(self):
        """Return the query of ``partner_id, level_id``: the level of the next reminder of
        each customer of the current company with open lines (``NULL``: none).

        The level ``followup_rules.decide`` gives, in SQL, in the same pass over the lines as
        the statuses (`_followup_decision_sql`, in the ladder of the customer's plan): the
        highest level reached with enough, else the lowest one reached or to be reached.
        ``tests/test_followup_scale.py`` proves that it decides as the rules do.
        """
        company = self.env.company
        today = fields.Date.context_today(self)
        aggregates = {}
        decision = self._followup_decision_sql(company, today, aggregates, level=True)
        plan = self._followup_plan_sql(company, SQL("partners.partner_id"))
        return SQL(
            """
            (WITH partners AS (%s)
            SELECT partners.partner_id, %s AS level_id
              FROM partners
              %s)
            """,
            self._followup_partners_sql(company, today, aggregates),
            decision["level"],
            plan["plan_join"],
        )

    @api.model
    def _followup_partners_sql(self, company, today, aggregates):
        """Return the query of the customers' aggregates over their open lines, grouped by
        customer in one pass: ``partner_id, residual, overdue`` and the columns of ``aggregates``
        (see `_followup_decision_sql`)."""
        return SQL(
            """
            SELECT line.partner_id,
                   SUM(line.amount_residual) AS residual,
                   SUM(line.amount_residual) FILTER (WHERE %s < %s) AS overdue
                   %s
            %s
          GROUP BY line.partner_id
            """,
            LINE_DUE,
            today,
            SQL("").join(
                SQL(", %s AS %s", expression, SQL.identifier(name)) for name, expression in aggregates.values()
            ),
            self._followup_open_lines_sql(company),
        )

    @api.model
    def _followup_decision_sql(self, company, today, aggregates, level=False):
        """Return what ``followup_rules.decide`` decides of a customer with an open balance, as
        expressions of its aggregates over its open lines (``partners``, see
        `_followup_partners_sql`), in the ladder of its plan: ``{"enough": whether it reaches a
        level with enough today, "level": the level of its next reminder}`` (``level``: only
        when asked, else ``NULL``).

        The line groups of `_followup_groups_sql` are not made: each aggregate of a group is
        one aggregate of the customer's lines filtered by their last level, so the lines are
        grouped by customer only, in one pass (see `_DecisionSQL`).  The aggregates the
        expressions need are added to ``aggregates`` (``{key: (column name, aggregate)}``,
        each one once).
        """
        default_plan_id, ladders, delays = self.env["account.followup.level"]._get_plan_ladders(company)
        builder = _DecisionSQL(self, delays, today, aggregates)
        ladders = {plan_id: ladder for plan_id, ladder in sorted(ladders.items())}
        if len(ladders) <= 1:
            decision = builder.decide(ladders.get(default_plan_id, []), level)
        else:
            decisions = {plan_id: builder.decide(ladder, level) for plan_id, ladder in ladders.items()}
            plan_id = self._followup_plan_sql(company, SQL("partners.partner_id"))["plan_id"]
            decision = {
                key: SQL(
                    "CASE %s %s ELSE %s END",
                    plan_id,
                    SQL(" ").join(SQL("WHEN %s THEN %s", plan, decision[key]) for plan, decision in decisions.items()),
                    SQL("FALSE") if key == "enough" else SQL("NULL::int"),
                )
                for key in ("enough", "level")
            }
        if level:  # nothing to pay: no level
            decision["level"] = SQL("CASE WHEN partners.residual <= 0 THEN NULL ELSE %s END", decision["level"])
        return decision


class _DecisionSQL:
    """The rules of ``followup_rules.decide`` as expressions of a customer's aggregates over its
    open lines, in one ladder (see ``res.partner._followup_decision_sql``).

    - A group (the customer's lines of one last level) below the last level of the plan reaches
      its next level that level's delay after its oldest due date: for the status, of the levels
      without a minimum amount, the earliest of these groups decides (one aggregate for all).
    - A group at (or beyond) the last level reaches it again the last gap after its oldest
      reminder, or its delay after its oldest due date when a reminder date is unknown.
    - A level with a minimum amount is reached with enough when the overdue residual of the
      lines that reached it themselves, in the groups that reached it, meets it.
    - The level: the highest one reached with enough, else the lowest one a group with
      something left to pay reaches or will reach.
    """

    def __init__(self, partners, delays, today, aggregates):
        self.partners = partners
        self.delays = delays
        self.today = today
        self.aggregates = aggregates
        known = sorted(delays)
        # The groups, by last level: the never-reminded lines (and lines of a level unknown to
        # the company) together, then each level of the company: (level id, filter of its lines).
        self.never_reminded = SQL("(line.followup_level_id IS NULL OR line.followup_level_id <> ALL(%s))", known)
        self.buckets = [(None, self.never_reminded)]
        self.buckets += [(level_id, SQL("line.followup_level_id = %s", level_id)) for level_id in known]

    def column(self, aggregate):
        """The customer's aggregate ``aggregate`` of its lines, as a column of ``partners``."""
        key = (aggregate.code, repr(aggregate.params))
        if key not in self.aggregates:
            self.aggregates[key] = (f"agg_{len(self.aggregates)}", aggregate)
        return SQL.identifier("partners", self.aggregates[key][0])

    def oldest_due(self, bucket):
        """The oldest due date of the group's lines with something left to pay."""
        return self.of_positive(SQL("MIN(%s)", LINE_DUE), bucket)

    def of_positive(self, aggregate, bucket):
        return self.column(SQL("%s FILTER (WHERE line.amount_residual > 0 AND %s)", aggregate, bucket))

    def group_reached(self, ladder, level_delay, bucket):
        """``followup_rules.group_reach_date`` of a group, on or before today."""
        if followup_rules.is_last(ladder, level_delay):
            return SQL(
                """COALESCE(CASE WHEN %(unknown)s THEN %(oldest_due)s + %(last)s
                                 ELSE %(oldest_followup)s + %(gap)s
                            END <= %(today)s, FALSE)""",
                unknown=self.of_positive(SQL("BOOL_OR(line.followup_date IS NULL)"), bucket),
                oldest_due=self.oldest_due(bucket),
                last=ladder[-1].delay,
                oldest_followup=self.of_positive(SQL("MIN(line.followup_date)"), bucket),
                gap=followup_rules.repeat_gap(ladder),
                today=self.today,
            )
        target = followup_rules.next_level(ladder, level_delay)
        return SQL("COALESCE(%s + %s <= %s, FALSE)", self.oldest_due(bucket), target.delay, self.today)

    def reached_with_enough(self, ladder, target, groups):
        """Whether ``groups`` (of ``target``: ``(level id, delay, filter)``) reach it with enough."""
        reached = [self.group_reached(ladder, level_delay, bucket) for __, level_delay, bucket in groups]
        if target.min_amount <= 0:
            return SQL("(%s)", SQL(" OR ").join(reached))
        overdue = [
            SQL("CASE WHEN %s THEN COALESCE(%s, 0) ELSE 0 END", group, self.column(SQL(
                "SUM(line.amount_residual) FILTER (WHERE %s AND %s < %s AND %s)",
                bucket, LINE_DUE, self.today, self.partners._followup_line_is_due_sql(ladder, level_delay, self.today),
            )))
            for group, (__, level_delay, bucket) in zip(reached, groups, strict=True)
        ]
        return SQL("((%s) AND %s >= %s)", SQL(" OR ").join(reached), SQL(" + ").join(overdue), target.min_amount)

    def earliest_reached(self, ladder, groups):
        """Whether the earliest of ``groups`` (below the last level, ``(level id, delay of its
        next level)``) reaches its next level today: one aggregate for all of them."""
        # the delay of the line's next level, NULL for the lines of the other groups
        whens = [SQL("WHEN line.followup_level_id = %s THEN %s", level_id, delay)
                 for level_id, delay in groups if level_id is not None]
        whens += [SQL("WHEN %s THEN %s", self.never_reminded, delay) for level_id, delay in groups if level_id is None]
        target_delay = SQL("CASE %s END", SQL(" ").join(whens))
        return SQL(
            "COALESCE(%s <= %s, FALSE)",
            self.column(SQL("MIN(%s + %s) FILTER (WHERE line.amount_residual > 0 AND %s IS NOT NULL)",
                            LINE_DUE, target_delay, target_delay)),
            self.today,
        )

    def decide(self, ladder, level):
        """``{"enough", "level"}`` of a customer of the plan of ``ladder``."""
        if not ladder:
            return {"enough": SQL("FALSE"), "level": SQL("NULL::int")}
        targets = {}  # level: the groups whose next level it is, (last level, its delay, filter)
        for level_id, bucket in self.buckets:
            level_delay = self.delays.get(level_id)
            targets.setdefault(followup_rules.next_level(ladder, level_delay), []).append(
                (level_id, level_delay, bucket)
            )
        earliest = [
            (level_id, target.delay)
            for target, groups in targets.items() if target.min_amount <= 0
            for level_id, level_delay, __ in groups if not followup_rules.is_last(ladder, level_delay)
        ]
        terms = [self.earliest_reached(ladder, earliest)] if earliest else []
        for target, groups in targets.items():
            reaching = groups if target.min_amount > 0 else [
                # the groups at the last level: the others are the earliest's
                group for group in groups if followup_rules.is_last(ladder, group[1])
            ]
            if reaching:
                terms.append(self.reached_with_enough(ladder, target, reaching))
        decision = {"enough": SQL("(%s)", SQL(" OR ").join(terms)) if terms else SQL("FALSE"),
                    "level": SQL("NULL::int")}
        if level:
            ordered = sorted(targets)
            whens = [SQL("WHEN %s THEN %s", self.reached_with_enough(ladder, target, targets[target]), target.id)
                     for target in reversed(ordered)]
            whens += [
                SQL("WHEN %s THEN %s", SQL(" OR ").join(
                    SQL("%s IS NOT NULL", self.oldest_due(bucket)) for __, __, bucket in targets[target]
                ), target.id)
                for target in ordered
            ]
            decision["level"] = SQL("CASE %s END", SQL(" ").join(whens))
        return decision
