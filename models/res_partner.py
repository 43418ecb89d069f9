from markupsafe import escape

from odoo import _, api, fields, models, tools
from odoo.exceptions import UserError
from odoo.tools import SQL

from . import followup_rules

# Keys of the cursor's cache: the number of `web_search_read` calls deciding statuses,
# and the temporary tables of the statuses they decided.
_STATUS_CALLS = "account_payment_followup.status_calls"
_STATUS_TABLES = "account_payment_followup.status_tables"
# The company-dependent many2one fields the Follow-up Reports group by, and the prefix of
# their value in ir_property.
_GROUPABLE_PROPERTIES = {"followup_responsible_id": "res.users,", "followup_plan_id": "account.followup.plan,"}


class ResPartner(models.Model):
    """Extends `base` with what describes a customer's follow-up: its fields, its status
    (decided by ``followup_rules`` from one SQL aggregation) and its follow-up contacts.

    Sending a reminder is the Follow up wizard's (``account.followup.send``); the letter
    and its rows are the report's (``report.account_payment_followup.report_followup``).
    """

    _inherit = "res.partner"

    type = fields.Selection(
        selection_add=[("followup", "Follow-up Address")],
        ondelete={"followup": "set default"},
    )
    followup_status = fields.Selection(
        selection=[
            (followup_rules.STATUS_IN_NEED, "In need of action"),
            (followup_rules.STATUS_OVERDUE, "With overdue invoices"),
            (followup_rules.STATUS_NO_ACTION, "No action needed"),
        ],
        string="Follow-up Status",
        compute="_compute_followup_data",
        search="_search_followup_status",
        groups="account.group_account_readonly,account.group_account_invoice",
    )
    followup_level_id = fields.Many2one(
        "account.followup.level",
        string="Follow-up Level",
        compute="_compute_followup_data",
        inverse="_inverse_followup_level_id",
        search="_search_followup_level_id",
        readonly=False,
        domain="[('plan_id', '=', followup_current_plan_id)]",
        groups="account.group_account_readonly,account.group_account_invoice",
        help="The level of the next reminder. Choose another level to send that one next.",
    )
    followup_current_plan_id = fields.Many2one(
        "account.followup.plan",
        string="Current Follow-up Plan",
        compute="_compute_followup_current_plan_id",
        search="_search_followup_current_plan_id",
        groups="account.group_account_readonly,account.group_account_invoice",
        help="The customer's follow-up plan, else the company's default plan.",
    )
    followup_plan_id = fields.Many2one(
        "account.followup.plan",
        string="Follow-up Plan",
        company_dependent=True,
        copy=False,
        # not tracked: every tracked write of a customer would read it (one query more per reminder)
        domain=lambda self: [("company_id", "=", self.env.company.id)],
        groups="account.group_account_readonly,account.group_account_invoice",
        help="The ladder of reminders this customer follows. Empty: the company's default plan. "
        "A change keeps the reminders already sent: the invoices go on in the new plan from its "
        "level with the next higher number of days.",
    )
    followup_promise_ids = fields.One2many(
        "account.followup.promise",
        "partner_id",
        string="Promises to Pay",
        domain=lambda self: [("company_id", "=", self.env.company.id)],
        groups="account.group_account_readonly,account.group_account_invoice",
    )
    followup_promise_date = fields.Date(
        string="Promised for",
        compute="_compute_followup_promise",
        search="_search_followup_promise_date",
        groups="account.group_account_readonly,account.group_account_invoice",
        help="The date the customer promised to pay: the chase pauses until then, plus the grace days "
        "of its plan.",
    )
    followup_promise_broken = fields.Boolean(
        string="Broken Promise",
        compute="_compute_followup_promise",
        search="_search_followup_promise_broken",
        groups="account.group_account_readonly,account.group_account_invoice",
        help="The customer's last promise to pay was broken.",
    )
    followup_minimum_note = fields.Char(
        string="Minimum Not Reached",
        compute="_compute_followup_data",
        groups="account.group_account_readonly,account.group_account_invoice",
    )
    total_due = fields.Monetary(
        compute="_compute_followup_data",
        groups="account.group_account_readonly,account.group_account_invoice",
        help="Open balance of the customer in the current company, excluded invoices left out.",
    )
    total_overdue = fields.Monetary(
        compute="_compute_followup_data",
        groups="account.group_account_readonly,account.group_account_invoice",
        help="Open balance past its due date, excluded invoices left out.",
    )
    followup_next_action_date = fields.Date(
        string="Next Reminder",
        company_dependent=True,
        copy=False,
        tracking=True,
        groups="account.group_account_readonly,account.group_account_invoice",
        help="No reminder is due before this date, even when invoices reach a new level.",
    )
    followup_reminder_type = fields.Selection(
        selection=[("automatic", "Automatic"), ("manual", "Manual")],
        string="Reminders",
        default="automatic",
        required=True,
        help="Automatic: the reminders of automatic levels are sent every day without "
        "anyone's action. Manual: reminders are only sent by hand.",
    )
    followup_responsible_id = fields.Many2one(
        "res.users",
        string="Responsible",
        company_dependent=True,
        copy=False,
        tracking=True,
        domain=[("share", "=", False)],
        groups="account.group_account_readonly,account.group_account_invoice",
        help="The person in charge of reminding this customer; activities of the "
        "follow-up levels are assigned to them.",
    )
    followup_failed = fields.Boolean(
        string="Reminder Failed",
        company_dependent=True,
        copy=False,
        groups="account.group_account_readonly,account.group_account_invoice",
        help="The last reminder could not be sent (the chatter says why). It is tried again "
        "at the next run, or by Process follow-ups, until one is sent.",
    )
    followup_line_ids = fields.One2many(
        "account.move.line",
        "partner_id",
        string="Open Invoices",
        domain=lambda self: self._get_followup_lines_domain(),
        groups="account.group_account_readonly,account.group_account_invoice",
    )
    followup_interest_accrued = fields.Monetary(
        string="Late-payment Interest",
        compute="_compute_followup_interest_accrued",
        groups="account.group_account_readonly,account.group_account_invoice",
        help="Interest accrued on the customer's late invoices up to today and not charged yet, "
        "in the company's currency, as the company's late-payment policy computes it.",
    )
    followup_interest_missing = fields.Boolean(
        string="Reference Rate Missing",
        compute="_compute_followup_interest_accrued",
        groups="account.group_account_readonly,account.group_account_invoice",
        help="A half-year of the interest has no reference rate: no interest is computed until it is set.",
    )

    # ------------------------------------------------------------
    # COMPUTE METHODS
    # ------------------------------------------------------------

    @api.depends_context("company")
    def _compute_followup_data(self):
        decisions, __, __, ageing = self._followup_decide_batch(self._origin.ids)
        self._set_followup_ageing(ageing)  # res_partner_ageing.py: same query, no other
        Level = self.env["account.followup.level"]
        for partner in self:
            decision = decisions.get(partner._origin.id)
            if decision:
                partner.followup_status = decision.status
                partner.followup_level_id = decision.level_id
                partner.total_due = decision.total_due
                partner.total_overdue = decision.total_overdue
            else:
                partner.followup_status = followup_rules.STATUS_NO_ACTION
                partner.followup_level_id = False
                partner.total_due = 0.0
                partner.total_overdue = 0.0
            partner.followup_minimum_note = False
            if decision and decision.below_minimum:
                level = Level.browse(decision.level_id)
                partner.followup_minimum_note = _(
                    "below the minimum of %(amount)s for %(level)s",
                    amount=tools.format_amount(self.env, level.min_amount, level.currency_id),
                    level=level.name,
                )

    @api.depends("followup_plan_id")
    @api.depends_context("company")
    def _compute_followup_current_plan_id(self):
        default_plan = self.env.company.followup_default_plan_id
        for partner in self:
            partner.followup_current_plan_id = partner.followup_plan_id or default_plan

    def _search_followup_current_plan_id(self, operator, value):
        """Search the customers by the plan they follow: the customers without a plan of
        their own follow the company's default plan."""
        if operator not in ("=", "!=", "in", "not in"):
            raise UserError(_("Unsupported search on the follow-up plan: %(operator)s", operator=operator))
        values = [value] if operator in ("=", "!=") else list(value or ())
        plan_ids = [plan_id for plan_id in values if plan_id]
        domain = [("followup_plan_id", "in", plan_ids)]
        if self.env.company.followup_default_plan_id.id in plan_ids:
            domain = ["|", ("followup_plan_id", "=", False), *domain]
        if operator in ("!=", "not in"):
            domain = ["!", *domain]
        return domain

    @api.depends_context("company")
    def _compute_followup_promise(self):
        today = fields.Date.context_today(self)
        promises = self.env["account.followup.promise"].search(
            [("company_id", "=", self.env.company.id), ("partner_id", "in", self._origin.ids),
             ("state", "!=", "cancelled")],
            order="date_recorded desc, id desc",
        )
        latest = {}
        holding = {}
        for promise in promises:
            latest.setdefault(promise.partner_id.id, promise)
            if promise.state == "open" and promise.date_deadline >= today:
                holding.setdefault(promise.partner_id.id, promise)
        for partner in self:
            promise = holding.get(partner._origin.id)
            partner.followup_promise_date = promise.date if promise else False
            last = latest.get(partner._origin.id)
            partner.followup_promise_broken = bool(last) and last.state == "broken"

    def _search_followup_promise_date(self, operator, value):
        """Search the customers an open promise to pay holds (``!= False``: the *Promised* filter)."""
        holding = self.env["account.followup.promise"]._search([
            ("company_id", "=", self.env.company.id),
            ("state", "=", "open"),
            ("date_deadline", ">=", fields.Date.context_today(self)),
        ])
        if operator == "!=" and not value:
            return [("id", "in", holding.subselect("partner_id"))]
        if operator == "=" and not value:
            return [("id", "not in", holding.subselect("partner_id"))]
        promises = self.env["account.followup.promise"]._search([
            ("company_id", "=", self.env.company.id), ("state", "=", "open"), ("date", operator, value),
        ])
        return [("id", "in", promises.subselect("partner_id"))]

    def _search_followup_promise_broken(self, operator, value):
        """Search the customers whose last promise to pay was broken (the *Broken promise* filter)."""
        if operator not in ("=", "!="):
            raise UserError(_("Unsupported search on broken promises: %(operator)s", operator=operator))
        self.env["account.followup.promise"].flush_model()
        last_broken = SQL(
            """(SELECT partner_id
                  FROM (SELECT DISTINCT ON (partner_id) partner_id, state
                          FROM account_followup_promise
                         WHERE company_id = %s AND state != 'cancelled'
                      ORDER BY partner_id, date_recorded DESC, id DESC) AS last
                 WHERE state = 'broken')""",
            self.env.company.id,
        )
        positive = (operator == "=") == bool(value)
        return [("id", "in" if positive else "not in", last_broken)]

    @api.depends_context("company")
    def _compute_followup_interest_accrued(self):
        company = self.env.company
        charges = {}
        if company.followup_interest_policy != "none" and self._origin.ids:
            charges = self.env["account.followup.charges"]._get_late_charges(
                self._origin.commercial_partner_id, company, fields.Date.context_today(self)
            )
        for partner in self:
            partner_charges = charges.get(partner._origin.commercial_partner_id.id)
            partner.followup_interest_accrued = partner_charges["interest_company"] if partner_charges else 0.0
            partner.followup_interest_missing = bool(partner_charges and partner_charges["missing"])

    def _inverse_followup_level_id(self):
        """Set the level of the next reminder by hand.

        The owed lines are set to the level before the chosen one, so that the chosen
        level is the next one sent (at once when its delay is reached).
        """
        company = self.env.company
        Level = self.env["account.followup.level"]
        for partner in self:
            level = partner.followup_level_id
            plan = partner._get_followup_plan()
            ladder = Level._get_ladder(company, plan.id)
            if level and level.company_id != company:
                raise UserError(
                    _(
                        'The follow-up level "%(level)s" belongs to %(other)s: choose a level '
                        "of %(company)s.",
                        level=level.name,
                        other=level.company_id.name,
                        company=company.name,
                    )
                )
            if level and level.plan_id != plan:
                raise UserError(
                    _(
                        'The follow-up level "%(level)s" belongs to the plan %(other)s: choose a level '
                        "of the plan %(plan)s of %(partner)s.",
                        level=level.name,
                        other=level.plan_id.name,
                        plan=plan.name,
                        partner=partner.display_name,
                    )
                )
            if not level:
                previous_id = False
            else:
                previous = followup_rules.previous_level(ladder, level.id)
                previous_id = previous.id if previous else False
            lines = partner._get_followup_owed_lines()
            lines.write({"followup_level_id": previous_id, "followup_date": False})
            partner.message_post(
                body=_("Next follow-up level set to %(level)s.", level=level.name or _("none")),
            )

    def _search_followup_status(self, operator, value):
        if operator not in ("=", "!=", "in", "not in"):
            raise UserError(_("Unsupported search on the follow-up status: %(operator)s", operator=operator))
        values = {value} if operator in ("=", "!=") else set(value or ())
        negative = operator in ("!=", "not in")
        if followup_rules.STATUS_NO_ACTION in values:
            # Customers with no open line need no action: they are not in the aggregation.
            others = {followup_rules.STATUS_IN_NEED, followup_rules.STATUS_OVERDUE} - values
            return [("id", "in" if negative else "not in", self._followup_status_subquery(others))]
        return [("id", "not in" if negative else "in", self._followup_status_subquery(values))]

    def _followup_status_subquery(self, statuses):
        """Return the query of the customers whose status is in ``statuses``.

        Within `web_search_read` (context key ``followup_status_call``), the customers of
        each status searched are decided once, into a temporary table that the page and
        its count both read: nothing is written in between.
        """
        call = self.env.context.get("followup_status_call")
        if not call:
            return self._followup_status_sql(statuses)
        tables = self.env.cr.cache.setdefault(_STATUS_TABLES, {})
        key = (call, self.env.company.id, fields.Date.context_today(self), frozenset(statuses))
        if key not in tables:
            table = f"followup_status_{call}_{len(tables)}"
            self.env.cr.execute(SQL(
                "CREATE TEMPORARY TABLE %s ON COMMIT DROP AS %s",
                SQL.identifier(table),
                self._followup_status_sql(statuses),
            ))
            tables[key] = table
        return SQL("(SELECT partner_id FROM %s)", SQL.identifier(tables[key]))

    def _search_followup_level_id(self, operator, value):
        """Search the customers by the level of their next reminder, in SQL.

        Every operator the search view offers: a level chosen (``=``, ``in``...), none
        (``= False``) or a level's name typed in the search bar (``ilike``...).
        """
        negative = operator in ("!=", "not in", "not ilike", "not like")
        operator = {"!=": "=", "not in": "in", "not ilike": "ilike", "not like": "like"}.get(operator, operator)
        if operator in ("ilike", "like", "=ilike", "=like") or (operator == "=" and isinstance(value, str)):
            values = set(
                self.env["account.followup.level"]
                .with_context(active_test=False)
                .search([("company_id", "=", self.env.company.id), ("name", operator, value)])
                .ids
            )
        elif operator in ("=", "in"):
            values = set(value) if isinstance(value, (list, tuple, set)) else {value}
        else:
            raise UserError(_("Unsupported search on the follow-up level: %(operator)s", operator=operator))
        level_ids = [level_id for level_id in values if level_id]
        levels = self._followup_level_sql()
        if len(level_ids) < len(values):  # no level: customers without open lines, or on no level
            others = SQL(
                "(SELECT partner_id FROM %s AS levels WHERE level_id IS NOT NULL AND level_id <> ALL(%s))",
                levels,
                level_ids,
            )
            return [("id", "in" if negative else "not in", others)]
        matching = SQL("(SELECT partner_id FROM %s AS levels WHERE level_id = ANY(%s))", levels, level_ids)
        return [("id", "not in" if negative else "in", matching)]

    # ------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------

    def write(self, vals):
        """Extends `base` to note a change of follow-up plan on the customer (the field is not
        tracked, see there): which plan it left, which it follows now, in the current company."""
        if "followup_plan_id" not in vals:
            return super().write(vals)
        before = {partner.id: partner.followup_current_plan_id for partner in self}
        result = super().write(vals)
        self.invalidate_recordset(["followup_current_plan_id"])
        bodies = {
            partner.id: escape(_(
                "Follow-up plan changed from %(old)s to %(new)s in %(company)s: the invoices go on "
                "from the level with the next higher number of days.",
                old=before[partner.id].display_name,
                new=partner.followup_current_plan_id.display_name,
                company=self.env.company.display_name,
            ))
            for partner in self
            if partner.followup_current_plan_id != before[partner.id]
        }
        if bodies:
            self.browse(list(bodies))._message_log_batch(bodies=bodies)
        return result

    @api.model
    def web_search_read(self, domain, specification, offset=0, limit=None, order=None, count_limit=None):
        """Extends `web` to decide the follow-up statuses searched once per call.

        The web client asks for a page and for its count in one call; a search on the
        follow-up status aggregates every open line of the company, so its customers are
        decided once for both (see `_followup_status_subquery`).
        """
        if not any(
            isinstance(leaf, (list, tuple)) and str(leaf[0]).split(".")[0] == "followup_status"
            for leaf in domain or ()
        ):
            return super().web_search_read(domain, specification, offset, limit, order, count_limit)
        call = self.env.cr.cache[_STATUS_CALLS] = self.env.cr.cache.get(_STATUS_CALLS, 0) + 1
        tables = self.env.cr.cache.setdefault(_STATUS_TABLES, {})
        succeeded = False
        try:
            result = super(ResPartner, self.with_context(followup_status_call=call)).web_search_read(
                domain, specification, offset, limit, order, count_limit
            )
            succeeded = True
        finally:
            for key in [key for key in tables if key[0] == call]:
                table = tables.pop(key)
                if succeeded:  # after an error, the rollback of the transaction drops it
                    self.env.cr.execute(SQL("DROP TABLE %s", SQL.identifier(table)))
        return result

    def _field_to_sql(self, alias, fname, query=None):
        """Extends `base` to group the Follow-up Reports by responsible and by plan.

        These are company-dependent, so their value lives in ``ir_property``: join the
        property of the current company to read it as a column.
        """
        if fname not in _GROUPABLE_PROPERTIES or query is None:
            return super()._field_to_sql(alias, fname, query)
        prop_alias = query.make_alias(alias, f"{fname}_property")
        field = self.env["ir.model.fields"]._get(self._name, fname)
        query.add_join(
            "LEFT JOIN",
            prop_alias,
            "ir_property",
            SQL(
                "%s = 'res.partner,' || %s AND %s = %s AND %s = %s",
                SQL.identifier(prop_alias, "res_id"),
                SQL.identifier(alias, "id"),
                SQL.identifier(prop_alias, "fields_id"),
                field.id,
                SQL.identifier(prop_alias, "company_id"),
                self.env.company.id,
            ),
        )
        # "res.users,42" -> 42; no comma in the expression: read_group splits orders on commas
        return SQL(
            "CAST(SUBSTRING(%s FROM %s) AS integer)",
            SQL.identifier(prop_alias, "value_reference"),
            len(_GROUPABLE_PROPERTIES[fname]) + 1,
        )

    def _order_field_to_sql(self, alias, field_name, direction, nulls, query):
        """Extends `base` to order the groups of responsibles and plans (see `_field_to_sql`)."""
        if field_name not in _GROUPABLE_PROPERTIES:
            return super()._order_field_to_sql(alias, field_name, direction, nulls, query)
        self._field_to_sql(alias, field_name, query)  # adds the join
        # Order on the raw reference: read_group copies order terms up to their first
        # space into its GROUP BY, which an expression would not survive.
        reference = SQL.identifier(query.make_alias(alias, f"{field_name}_property"), "value_reference")
        return SQL("%s %s %s", reference, direction, nulls)

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_open_followup(self):
        """Open the follow-up form of the customer (the "Due" smart button)."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Follow-up of %(partner)s", partner=self.commercial_partner_id.display_name),
            "res_model": "res.partner",
            "res_id": self.commercial_partner_id.id,
            "view_mode": "form",
            "views": [(self.env.ref("account_payment_followup.res_partner_view_form_followup").id, "form")],
            "target": "current",
        }

    def action_open_followup_promise(self):
        """Record a promise to pay of the customer."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Promise to pay of %(partner)s", partner=self.commercial_partner_id.display_name),
            "res_model": "account.followup.promise",
            "view_mode": "form",
            "views": [(self.env.ref("account_payment_followup.account_followup_promise_view_form").id, "form")],
            "target": "new",
            "context": {
                "default_partner_id": self.commercial_partner_id.id,
                "default_amount": self.commercial_partner_id.total_overdue,
            },
        }

    def action_open_followup_send(self):
        """Open the Follow up wizard of the customer, pre-filled from its level."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Follow up %(partner)s", partner=self.commercial_partner_id.display_name),
            "res_model": "account.followup.send",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_partner_ids": self.commercial_partner_id.ids},
        }

    def action_process_followups(self):
        """Send the reminders of the selected customers in need of action (list action).

        Customers that miss the contact details a channel of their level needs, or whose
        reminder failed, are listed at the end, so that someone completes them.
        """
        Send = self.env["account.followup.send"]
        return Send._get_followup_result_action(Send._process_followup_run(self.commercial_partner_id))

    # ------------------------------------------------------------
    # BUSINESS METHODS
    # ------------------------------------------------------------

    @api.model
    def _get_followup_lines_domain(self):
        """Return the domain of the *follow-up lines*: the company's posted, unreconciled
        receivable lines (the customer's follow-up form lists them, excluded ones included)."""
        return [
            ("company_id", "=", self.env.company.id),
            ("account_id.account_type", "=", "asset_receivable"),
            ("account_id.non_trade", "=", False),
            ("parent_state", "=", "posted"),
            ("reconciled", "=", False),
        ]

    def _get_followup_open_lines(self):
        """Return the customers' *open lines*: follow-up lines not excluded, with something
        left (credit notes and payments too): the items of the letter, the lines the status
        is decided from (``_followup_open_lines_sql`` selects the same ones)."""
        return self.env["account.move.line"].search(
            self._get_followup_lines_domain()
            + [
                ("partner_id", "in", self.commercial_partner_id.ids),
                "|", ("blocked", "=", False), ("followup_hold_until", "<=", fields.Date.context_today(self)),
                ("amount_residual", "!=", 0),
            ]
        )

    def _get_followup_plan(self):
        """Return the follow-up plan of the customer in the current company: its own, else the
        company's default plan."""
        self.ensure_one()
        return self.commercial_partner_id.followup_plan_id or self.env.company.followup_default_plan_id

    def _get_followup_owed_lines(self):
        """Return the customers' *owed lines*: open lines with an amount owed, what a
        reminder is about and steps up (credit notes and payments are never reminded of)."""
        return self._get_followup_open_lines().filtered(lambda line: line.amount_residual > 0)

    @api.model
    def _followup_decide(self, partner_ids=None):
        """Decide the follow-up of customers in the current company.

        :param partner_ids: the customers to decide for, or ``None`` for all of them
        :return: ``{partner_id: PartnerFollowup}`` for the customers with open lines
        """
        return self._followup_decide_with_failures(partner_ids)[0]

    @api.model
    def _followup_decide_with_failures(self, partner_ids=None):
        """Decide as `_followup_decide`, and tell whose last reminder failed, in the same query.

        :return: ``({partner_id: PartnerFollowup}, {partner_id whose last reminder failed})``
        """
        return self._followup_decide_batch(partner_ids)[:2]

    @api.model
    def _followup_decide_batch(self, partner_ids=None):
        """Decide as `_followup_decide_with_failures`, and tell each customer's plan and ageing.

        :return: ``({partner_id: PartnerFollowup}, {partner_id whose last reminder failed},
            {partner_id: follow-up plan id}, {partner_id: [the five ageing sums]})``
        """
        company = self.env.company
        today = fields.Date.context_today(self)
        __, ladders, delays = self.env["account.followup.level"]._get_plan_ladders(company)
        groups, next_dates, failed, plans, promised, ageing = self._followup_query_groups(
            company, today, delays, partner_ids
        )
        decisions = {
            partner_id: followup_rules.decide(
                ladders.get(plans[partner_id], []), partner_groups, next_dates[partner_id], today,
                promised_until=promised[partner_id],
            )
            for partner_id, partner_groups in groups.items()
        }
        return decisions, failed, plans, ageing

    @api.model
    def _get_followup_cron_partner_ids(self):
        """Return the customers of the current company the cron reminds today, in order.

        Searched in SQL (the status, and the level when some levels are not automatic):
        nothing of the company's customers is decided in Python, whatever their number.
        Customers whose last reminder failed come last: a run tries each of them once,
        after everyone else (see ``account.followup.send._cron_process_followups``).
        """
        levels = self.env["account.followup.level"].search([("company_id", "=", self.env.company.id)])
        automatic = levels.filtered("auto_execute")
        if not automatic:
            return []
        # in need at an automatic level: one aggregation for both (see `_followup_status_sql`)
        in_need = self._followup_status_sql(
            [followup_rules.STATUS_IN_NEED], level_ids=None if automatic == levels else automatic.ids
        )
        partner_ids = self.search([("id", "in", in_need), ("followup_reminder_type", "=", "automatic")], order="id").ids
        failed = set(self.search([("id", "in", partner_ids), ("followup_failed", "=", True)]).ids)
        return sorted(partner_ids, key=lambda partner_id: partner_id in failed)

    # ------------------------------------------------------------
    # FOLLOW-UP CONTACTS
    # ------------------------------------------------------------

    def _get_followup_contacts(self, can_receive):
        """Return the contacts a reminder goes to through one channel.

        The first of these that can receive it (``can_receive(contact)``): the
        customer's follow-up contacts (child contacts of type "Follow-up Address"),
        its invoice address, the customer itself.
        """
        self.ensure_one()
        partner = self.commercial_partner_id
        followup_contacts = partner.child_ids.filtered(lambda contact: contact.type == "followup")
        invoice_address = partner.browse(partner.address_get(["invoice"])["invoice"])
        for candidates in (followup_contacts, invoice_address, partner):
            contacts = candidates.filtered(can_receive)
            if contacts:
                return contacts
        return partner.browse()

    def _get_followup_email_recipients(self, chosen=None):
        """Return the contacts the email goes to: ``chosen`` ones, else the follow-up contacts."""
        if chosen is None:
            return self._get_followup_contacts(lambda contact: contact.email_normalized)
        return chosen.filtered("email_normalized")

    def _get_followup_sms_recipients(self):
        return self._get_followup_contacts(lambda contact: contact.mobile or contact.phone)

    def _get_followup_letter_recipients(self):
        return self._get_followup_contacts(self.env["snailmail.letter"]._is_valid_address)

    def _get_followup_author(self):
        """Return who the customer's reminders are from (res.partner): the user sending them.

        The automatic reminders (see `_followup_sent_automatically`) are from the customer's
        follow-up responsible, else its salesperson, else the company: customers see a person
        or the company they know, and their replies reach someone who follows their account.
        The email templates call it.
        """
        self.ensure_one()
        if not self._followup_sent_automatically():
            return self.env.user.partner_id
        for candidate in (self.commercial_partner_id.followup_responsible_id, self.commercial_partner_id.user_id):
            if candidate.active and not candidate.share and candidate.email:
                return candidate.partner_id
        return self.env.company.partner_id

    @api.model
    def _followup_sent_automatically(self):
        """Tell whether the reminders are sent by nobody in person: the cron's user (OdooBot),
        whom no customer knows and nobody reads, is at work."""
        return self.env.user._is_superuser()

    # ------------------------------------------------------------
    # MAIL
    # ------------------------------------------------------------

    def _notify_thread_by_sms(self, message, recipients_data, msg_vals=False, sms_numbers=None,
                              sms_pid_to_number=None, **kwargs):
        """Extends `sms`: a message no recipient gets by SMS creates nothing, so return before
        `sms` turns its body into plain text (the whole HTML of every reminder email
        posted on a customer, parsed once more for nothing)."""
        if not sms_numbers and not any(recipient["notif"] == "sms" for recipient in recipients_data):
            return True
        return super()._notify_thread_by_sms(
            message, recipients_data, msg_vals=msg_vals, sms_numbers=sms_numbers,
            sms_pid_to_number=sms_pid_to_number, **kwargs
        )

    def _notify_thread_by_web_push(self, message, recipients_data, msg_vals=False, **kwargs):
        """Extends `mail`: in a batch of reminders, whose recipients are mostly customers
        without any browser to notify, Odoo's search of their devices is answered from the
        partners with devices, read once for the batch (context ``followup_push_partner_ids``)."""
        push_partner_ids = self.env.context.get("followup_push_partner_ids")
        if push_partner_ids is not None and not any(
            recipient["id"] in push_partner_ids for recipient in recipients_data
        ):
            return
        return super()._notify_thread_by_web_push(message, recipients_data, msg_vals=msg_vals, **kwargs)

    # ------------------------------------------------------------
    # CRON
    # ------------------------------------------------------------

    @api.model
    def _cron_execute_followups(self, batch_size=None, max_batches=10):
        """Send the automatic reminders of every company (see
        ``account.followup.send._cron_process_followups``)."""
        return self.env["account.followup.send"]._cron_process_followups(batch_size=batch_size, max_batches=max_batches)
