from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from . import followup_rules


class ResPartner(models.Model):
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
        domain=lambda self: [("company_id", "=", self.env.company.id)],
        groups="account.group_account_readonly,account.group_account_invoice",
        help="The level of the next reminder. Choose another level to send that one next.",
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
    followup_line_ids = fields.One2many(
        "account.move.line",
        "partner_id",
        string="Open Invoices",
        domain=lambda self: self._get_followup_lines_domain(),
        groups="account.group_account_readonly,account.group_account_invoice",
    )

    # ------------------------------------------------------------
    # COMPUTE METHODS
    # ------------------------------------------------------------

    @api.depends_context("company")
    def _compute_followup_data(self):
        decisions = self._followup_decide(self._origin.ids)
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

    def _inverse_followup_level_id(self):
        """Set the level of the next reminder by hand.

        The open lines are set to the level before the chosen one, so that the chosen
        level is the next one sent (at once when its delay is reached).
        """
        company = self.env.company
        ladder = self.env["account.followup.level"]._get_ladder(company)
        for partner in self:
            level = partner.followup_level_id
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
            if not level:
                previous_id = False
            else:
                previous = followup_rules.previous_level(ladder, level.id)
                previous_id = previous.id if previous else False
            lines = partner._get_followup_lines().filtered(lambda line: line.amount_residual > 0)
            lines.write({"followup_level_id": previous_id, "followup_date": False})
            partner.message_post(
                body=_("Next follow-up level set to %(level)s.", level=level.name or _("none")),
            )

    def _search_followup_status(self, operator, value):
        if operator not in ("=", "!=", "in", "not in"):
            raise UserError(_("Unsupported search on the follow-up status: %(operator)s", operator=operator))
        values = {value} if operator in ("=", "!=") else set(value or ())
        negative = operator in ("!=", "not in")
        decisions = self._followup_decide()
        if followup_rules.STATUS_NO_ACTION in values:
            # Customers with no open line need no action: they are not in the aggregation.
            others = [pid for pid, d in decisions.items() if d.status not in values]
            return [("id", "in" if negative else "not in", others)]
        ids = [pid for pid, d in decisions.items() if d.status in values]
        return [("id", "not in" if negative else "in", ids)]

    def _search_followup_level_id(self, operator, value):
        if operator not in ("=", "!=", "in", "not in"):
            raise UserError(_("Unsupported search on the follow-up level: %(operator)s", operator=operator))
        if isinstance(value, (list, tuple)):
            values = set(value)
        else:
            values = {value}
        if values & {False, None}:
            values = (values - {False, None}) | {None}
        negative = operator in ("!=", "not in")
        decisions = self._followup_decide()
        if None in values:
            others = [pid for pid, d in decisions.items() if d.level_id not in values]
            return [("id", "in" if negative else "not in", others)]
        ids = [pid for pid, d in decisions.items() if d.level_id in values]
        return [("id", "not in" if negative else "in", ids)]

    # ------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------

    def _field_to_sql(self, alias, fname, query=None):
        """Extends `base` to group the Follow-up Reports by responsible.

        The responsible is company-dependent, so its value lives in ``ir_property``:
        join the property of the current company to read it as a column.
        """
        if fname != "followup_responsible_id" or query is None:
            return super()._field_to_sql(alias, fname, query)
        prop_alias = query.make_alias(alias, "followup_responsible_property")
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
        return SQL("CAST(SUBSTRING(%s FROM 11) AS integer)", SQL.identifier(prop_alias, "value_reference"))

    def _order_field_to_sql(self, alias, field_name, direction, nulls, query):
        """Extends `base` to order the groups of responsibles (see `_field_to_sql`)."""
        if field_name != "followup_responsible_id":
            return super()._order_field_to_sql(alias, field_name, direction, nulls, query)
        self._field_to_sql(alias, field_name, query)  # adds the join
        # Order on the raw reference: read_group copies order terms up to their first
        # space into its GROUP BY, which an expression would not survive.
        reference = SQL.identifier(query.make_alias(alias, "followup_responsible_property"), "value_reference")
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

    # ------------------------------------------------------------
    # BUSINESS METHODS
    # ------------------------------------------------------------

    @api.model
    def _get_followup_lines_domain(self):
        """Return the domain of the lines a follow-up is about, excluded ones included."""
        return [
            ("company_id", "=", self.env.company.id),
            ("account_id.account_type", "=", "asset_receivable"),
            ("account_id.non_trade", "=", False),
            ("parent_state", "=", "posted"),
            ("reconciled", "=", False),
        ]

    def _get_followup_lines(self):
        """Return the open receivable lines of the customers, excluded lines left out."""
        return self.env["account.move.line"].search(
            self._get_followup_lines_domain()
            + [("partner_id", "in", self.commercial_partner_id.ids), ("blocked", "=", False)]
        )

    @api.model
    def _followup_query_groups(self, company, today, partner_ids=None):
        """Aggregate the open receivable lines of the company, by customer and last level.

        One query for any number of customers: the rules then decide per customer from
        a few rows each, never from the move lines themselves.

        :return: ``({partner_id: [LineGroup]}, {partner_id: next reminder date})``
        """
        next_date_field = self.env["ir.model.fields"]._get("res.partner", "followup_next_action_date")
        partner_clause = SQL("AND line.partner_id = ANY(%s)", list(partner_ids)) if partner_ids is not None else SQL()
        query = SQL(
            """
            WITH line_groups AS (
                SELECT line.partner_id,
                       line.followup_level_id,
                       level.delay AS level_delay,
                       SUM(line.amount_residual) AS residual,
                       COALESCE(SUM(line.amount_residual)
                           FILTER (WHERE COALESCE(line.date_maturity, line.date) < %(today)s), 0) AS overdue,
                       MIN(COALESCE(line.date_maturity, line.date))
                           FILTER (WHERE line.amount_residual > 0) AS oldest_due,
                       CASE WHEN BOOL_OR(line.followup_date IS NULL) FILTER (WHERE line.amount_residual > 0)
                            THEN NULL
                            ELSE MIN(line.followup_date) FILTER (WHERE line.amount_residual > 0)
                       END AS oldest_followup
                  FROM account_move_line line
                  JOIN account_account account ON account.id = line.account_id
             LEFT JOIN account_followup_level level ON level.id = line.followup_level_id
                 WHERE line.company_id = %(company_id)s
                   AND account.account_type = 'asset_receivable'
                   AND account.non_trade IS NOT TRUE
                   AND line.parent_state = 'posted'
                   AND line.reconciled IS NOT TRUE
                   AND line.blocked IS NOT TRUE
                   AND line.partner_id IS NOT NULL
                   %(partner_clause)s
              GROUP BY line.partner_id, line.followup_level_id, level.delay
            )
            SELECT line_groups.*, prop.value_datetime::date
              FROM line_groups
         LEFT JOIN ir_property prop
                ON prop.fields_id = %(field_id)s
               AND prop.company_id = %(company_id)s
               AND prop.res_id = 'res.partner,' || line_groups.partner_id
            """,
            today=today,
            company_id=company.id,
            field_id=next_date_field.id,
            partner_clause=partner_clause,
        )
        self.env["account.move.line"].flush_model(
            ["partner_id", "followup_level_id", "amount_residual", "date_maturity", "date",
             "followup_date", "company_id", "account_id", "parent_state", "reconciled", "blocked"]
        )
        self.env["ir.property"].flush_model()
        self.env.cr.execute(query)
        groups = {}
        next_dates = {}
        for partner_id, level_id, level_delay, residual, overdue, oldest_due, oldest_followup, next_date in (
            self.env.cr.fetchall()
        ):
            groups.setdefault(partner_id, []).append(
                followup_rules.LineGroup(level_id, level_delay, residual, overdue, oldest_due, oldest_followup)
            )
            next_dates[partner_id] = next_date
        return groups, next_dates

    @api.model
    def _followup_decide(self, partner_ids=None):
        """Decide the follow-up of customers in the current company.

        :param partner_ids: the customers to decide for, or ``None`` for all of them
        :return: ``{partner_id: PartnerFollowup}`` for the customers with open lines
        """
        company = self.env.company
        today = fields.Date.context_today(self)
        ladder = self.env["account.followup.level"]._get_ladder(company)
        groups, next_dates = self._followup_query_groups(company, today, partner_ids)
        return {
            partner_id: followup_rules.decide(ladder, partner_groups, next_dates[partner_id], today)
            for partner_id, partner_groups in groups.items()
        }

    def _get_followup_items_by_currency(self):
        """Return the customer's open items for letters and emails, grouped by currency.

        :return: a list of ``{"currency": res.currency, "lines": account.move.line,
            "total_due": float, "total_overdue": float}``, one per currency
        """
        self.ensure_one()
        today = fields.Date.context_today(self)
        lines = self._get_followup_lines().sorted(lambda line: (line.date_maturity or line.date, line.id))
        groups = []
        for currency in lines.currency_id.sorted("name"):
            currency_lines = lines.filtered(lambda line, cur=currency: line.currency_id == cur)
            groups.append({
                "currency": currency,
                "lines": currency_lines,
                "total_due": sum(currency_lines.mapped("amount_residual_currency")),
                "total_overdue": sum(
                    line.amount_residual_currency
                    for line in currency_lines
                    if (line.date_maturity or line.date) < today
                ),
            })
        return groups

    def _followup_items_table_html(self):
        """Render the table of open items used in the reminder emails and the letter."""
        self.ensure_one()
        return self.env["ir.qweb"]._render(
            "account_payment_followup.followup_items_table",
            {
                "partner": self,
                "groups": self._get_followup_items_by_currency(),
                "today": fields.Date.context_today(self),
            },
            lang=self.lang,
        )
