import logging
import threading
from collections import defaultdict

import psycopg2

from odoo import _, api, fields, models, tools
from odoo.exceptions import UserError
from odoo.tools import SQL

from . import followup_rules

_logger = logging.getLogger(__name__)

# Keys of the cursor's cache: the number of `web_search_read` calls deciding statuses,
# and the temporary tables of the statuses they decided.
_STATUS_CALLS = "account_payment_followup.status_calls"
_STATUS_TABLES = "account_payment_followup.status_tables"


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

        Customers that miss the contact details a channel of their level needs are
        listed at the end, so that someone completes them.
        """
        self._check_followup_send_access()
        results = self.commercial_partner_id._followup_process()
        return self._followup_process_result_action(results)

    @api.model
    def _check_followup_send_access(self):
        """Refuse at once a user who may not record reminders (billing users may).

        A reminder writes the level of the receivable lines and the customer's next
        reminder date: without these rights every customer would fail on its own.
        """
        self.env["account.move.line"].check_access_rights("write")
        self.check_access_rights("write")

    def _followup_process_result_action(self, results):
        """Return the notification that sums up a batch of follow-ups."""
        incomplete = results["missing"] | results["failed"]
        message = _(
            "%(sent)s reminders sent, %(skipped)s customers skipped, %(incomplete)s customers to check.",
            sent=len(results["sent"]),
            skipped=len(results["skipped"]),
            incomplete=len(incomplete),
        )
        params = {
            "title": _("Follow-ups processed"),
            "message": message,
            "type": "warning" if incomplete else "success",
            "sticky": bool(incomplete),
        }
        if incomplete:
            params["next"] = {
                "type": "ir.actions.act_window",
                "name": _("Customers to check"),
                "res_model": "res.partner",
                "view_mode": "tree",
                "views": [(self.env.ref("account_payment_followup.res_partner_view_tree_followup_contact").id, "tree")],
                "domain": [("id", "in", incomplete.ids)],
                "target": "current",
            }
        return {"type": "ir.actions.client", "tag": "display_notification", "params": params}

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
    def _followup_open_lines_sql(self, company, partner_ids=None):
        """Return the ``FROM ... WHERE`` of the company's open receivable lines, as ``line``.

        Excluded lines and lines with nothing left to pay are left out.  Pending changes
        are flushed first.
        """
        self.env["account.move.line"].flush_model(
            ["partner_id", "followup_level_id", "amount_residual", "date_maturity", "date",
             "followup_date", "company_id", "account_id", "parent_state", "reconciled", "blocked"]
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
             WHERE line.company_id = %s
               AND line.account_id = ANY(ARRAY(%s))
               AND line.parent_state = 'posted'
               AND line.reconciled IS NOT TRUE
               AND line.blocked IS NOT TRUE
               AND line.partner_id IS NOT NULL
               -- Lines with nothing left to pay change no decision (they add nothing to the
               -- sums and every date ignores them): leaving them out keeps the index small.
               AND line.amount_residual <> 0
               %s
            """,
            company.id,
            receivable_ids.subselect(),
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
    def _followup_groups_sql(self, company, today, delays, partner_ids=None):
        """Return the query of the customers' line groups and next reminder dates.

        The open receivable lines of the company, aggregated by customer and last level
        (see ``followup_rules.LineGroup``), with the customer's "Next Reminder" date:
        ``partner_id, level_id, level_delay, residual, overdue, oldest_due,
        oldest_followup, next_date``.

        :param dict delays: ``{level id: delay}`` of the company's levels
        """
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
                       END AS oldest_followup
                %(lines)s
              GROUP BY line.partner_id, line.followup_level_id
            )
            SELECT line_groups.*, prop.value_datetime::date AS next_date
              FROM line_groups
              %(next_date_join)s
            """,
            level_delay=self._followup_level_case(delays, lambda level_id, delay: delay),
            today=today,
            lines=self._followup_open_lines_sql(company, partner_ids),
            next_date_join=self._followup_next_date_join(company, SQL("line_groups.partner_id")),
        )

    @api.model
    def _followup_next_date_join(self, company, partner_id):
        """Return the join of the customers' "Next Reminder" date (company-dependent) as ``prop``."""
        field = self.env["ir.model.fields"]._get("res.partner", "followup_next_action_date")
        return SQL(
            """
            LEFT JOIN ir_property prop
                   ON prop.fields_id = %s
                  AND prop.company_id = %s
                  AND prop.res_id = 'res.partner,' || %s
            """,
            field.id,
            company.id,
            partner_id,
        )

    @api.model
    def _followup_query_groups(self, company, today, delays, partner_ids=None):
        """Aggregate the open receivable lines of the company, by customer and last level.

        One query for any number of customers: the rules then decide per customer from
        a few rows each, never from the move lines themselves.

        :return: ``({partner_id: [LineGroup]}, {partner_id: next reminder date})``
        """
        self.env.cr.execute(self._followup_groups_sql(company, today, delays, partner_ids))
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
    def _followup_status_sql(self, statuses):
        """Return the query of the customers of the current company whose status is in ``statuses``.

        The rules of ``followup_rules.decide``, in SQL, for searches over every customer
        (the Follow-up Reports, the cron): one pass over the open lines in the order of
        account_move_line_followup_open_idx, nothing sent to Python.  Customers without
        open lines are not in it.  ``tests/test_followup_scale.py`` proves that it decides
        as the rules do.
        """
        company = self.env.company
        today = fields.Date.context_today(self)
        ladder, delays = self.env["account.followup.level"]._get_ladder_and_delays(company)
        due = SQL("COALESCE(line.date_maturity, line.date)")
        reached = [SQL("FALSE")]
        if ladder:
            last = ladder[-1].delay
            # Before the last level: a line group reaches its next level that level's delay
            # after its oldest due date; the earliest of them decides.
            next_delay = self._followup_level_case(
                delays,
                lambda level_id, delay: followup_rules.next_level(ladder, delay).delay if delay < last else None
            )
            reached.append(SQL(
                """COALESCE(MIN(%(due)s + COALESCE(%(next_delay)s, %(first)s))
                       FILTER (WHERE line.amount_residual > 0
                                 AND (line.followup_level_id IS NULL OR %(next_delay)s IS NOT NULL))
                       <= %(today)s, FALSE)""",
                due=due, next_delay=next_delay, first=ladder[0].delay, today=today,
            ))
            # At (or beyond) the last level, group by group: the last level again, after the
            # last gap, or its delay after the oldest due date when a reminder date is unknown.
            for level_id in sorted(level_id for level_id, delay in delays.items() if delay >= last):
                on_level = SQL("line.amount_residual > 0 AND line.followup_level_id = %s", level_id)
                reached.append(SQL(
                    """COALESCE(CASE WHEN BOOL_OR(line.followup_date IS NULL) FILTER (WHERE %(on_level)s)
                                     THEN MIN(%(due)s) FILTER (WHERE %(on_level)s) + %(last)s
                                     ELSE MIN(line.followup_date) FILTER (WHERE %(on_level)s) + %(gap)s
                                END <= %(today)s, FALSE)""",
                    on_level=on_level, due=due, last=last, gap=followup_rules.repeat_gap(ladder), today=today,
                ))
        return SQL(
            """
            (WITH partners AS (
                SELECT line.partner_id,
                       SUM(line.amount_residual) AS residual,
                       SUM(line.amount_residual) FILTER (WHERE %(due)s < %(today)s) AS overdue,
                       %(reached)s AS reached
                %(lines)s
              GROUP BY line.partner_id
            ),
                  decisions AS (
                SELECT partners.partner_id,
                       CASE
                           WHEN partners.residual <= 0 THEN %(no_action)s
                           WHEN partners.reached
                                AND NOT COALESCE(prop.value_datetime::date > %(today)s, FALSE) THEN %(in_need)s
                           WHEN partners.overdue > 0 THEN %(overdue)s
                           ELSE %(no_action)s
                       END AS status
                  FROM partners
                  %(next_date_join)s
            )
            SELECT partner_id FROM decisions WHERE status = ANY(%(statuses)s))
            """,
            due=due,
            today=today,
            reached=SQL(" OR ").join(reached),
            lines=self._followup_open_lines_sql(company),
            next_date_join=self._followup_next_date_join(company, SQL("partners.partner_id")),
            no_action=followup_rules.STATUS_NO_ACTION,
            in_need=followup_rules.STATUS_IN_NEED,
            overdue=followup_rules.STATUS_OVERDUE,
            statuses=list(statuses),
        )

    @api.model
    def _followup_decide(self, partner_ids=None):
        """Decide the follow-up of customers in the current company.

        :param partner_ids: the customers to decide for, or ``None`` for all of them
        :return: ``{partner_id: PartnerFollowup}`` for the customers with open lines
        """
        company = self.env.company
        today = fields.Date.context_today(self)
        ladder, delays = self.env["account.followup.level"]._get_ladder_and_delays(company)
        groups, next_dates = self._followup_query_groups(company, today, delays, partner_ids)
        return {
            partner_id: followup_rules.decide(ladder, partner_groups, next_dates[partner_id], today)
            for partner_id, partner_groups in groups.items()
        }

    # ------------------------------------------------------------
    # SENDING FOLLOW-UPS
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

    def _get_followup_open_lines(self, batch=None):
        """Return the open lines a reminder may be about: not excluded, not paid.

        :param dict batch: see `_followup_prepare_batch`: its lines of the customer, when
            it read them (after the customer was locked), rather than a search
        """
        line_ids = None
        if batch is not None:
            self.ensure_one()
            line_ids = batch["lines"].get(self.commercial_partner_id.id)
        if line_ids is None:
            lines = self._get_followup_lines()
        else:
            lines = self.env["account.move.line"].browse(line_ids)
        return lines.filtered(lambda line: line.amount_residual > 0)

    def _get_followup_due_lines(self, ladder, today, open_lines=None):
        """Return the open lines (``open_lines`` or the customer's) the rules say need a reminder today."""
        if open_lines is None:
            open_lines = self._get_followup_open_lines()
        return open_lines.filtered(
            lambda line: followup_rules.line_is_due(
                ladder,
                line.followup_level_id.delay if line.followup_level_id else None,
                line.date_maturity or line.date,
                line.followup_date,
                today,
            )
        )

    def _get_followup_invoices(self):
        """Return the open invoices whose PDF a reminder attaches."""
        return self._get_followup_open_lines().move_id.filtered(lambda move: move.is_invoice(include_receipts=True))

    @api.model
    def _get_followup_invoice_attachments(self, invoices):
        """Return the PDF of each invoice, rendering those never printed in one batch."""
        missing = invoices.filtered(lambda move: not move.invoice_pdf_report_id)
        if missing:
            self._followup_render_invoice_pdfs(missing)
            invoices.invalidate_recordset(["invoice_pdf_report_id", "invoice_pdf_report_file"])
        return invoices.invoice_pdf_report_id

    @api.model
    def _followup_render_invoice_pdfs(self, invoices):
        """Render the PDF of invoices and keep it as their official PDF, as sending them does.

        One call of the invoice report for all of them (one wkhtmltopdf run), split per
        invoice by the report engine.
        """
        report = "account.account_invoices"
        Report = self.env["ir.actions.report"]
        if (tools.config["test_enable"] or tools.config["test_file"]) and not self.env.context.get(
            "force_report_rendering"
        ):
            # As `_render_qweb_pdf` does in tests: HTML, no wkhtmltopdf.
            contents = {invoice.id: Report._render(report, invoice.ids)[0] for invoice in invoices}
        else:
            streams = Report._render_qweb_pdf_prepare_streams(report, {}, res_ids=invoices.ids)
            contents = {
                res_id: data["stream"].getvalue()
                for res_id, data in streams.items()
                if res_id and data["stream"]
            }
            for invoice in invoices.filtered(lambda move: move.id not in contents):
                # The batch could not be split per invoice (no outline): render it alone.
                contents[invoice.id] = Report._render(report, invoice.ids)[0]
        attachments = self.env["ir.attachment"].create([
            {
                "name": invoice._get_invoice_report_filename(),
                "raw": contents[invoice.id],
                "mimetype": "application/pdf",
                "res_model": invoice._name,
                "res_id": invoice.id,
                "res_field": "invoice_pdf_report_file",
            }
            for invoice in invoices
        ])
        for invoice, attachment in zip(invoices, attachments, strict=True):
            invoice.message_main_attachment_id = attachment
        return attachments

    def _get_followup_letter_attachment(self):
        """Render the follow-up letter of the customer and keep it on the customer."""
        self.ensure_one()
        content, __ = self.env["ir.actions.report"]._render("account_payment_followup.action_report_followup", self.ids)
        return self.env["ir.attachment"].create({
            "name": _(
                "Follow-up %(partner)s - %(date)s.pdf",
                partner=self.name,
                date=fields.Date.to_string(fields.Date.context_today(self)),
            ),
            "raw": content,
            "mimetype": "application/pdf",
            "res_model": self._name,
            "res_id": self.id,
        })

    def _get_followup_author(self):
        """Return who the customer's reminders are from (res.partner): the user sending them.

        The automatic reminders (the cron runs as OdooBot) are from the customer's follow-up
        responsible, else its salesperson, else the company: customers see a person or the
        company they know, and their replies reach someone who follows their account.
        """
        self.ensure_one()
        user = self.env.user
        if not user._is_superuser():
            return user.partner_id
        for candidate in (self.commercial_partner_id.followup_responsible_id, self.commercial_partner_id.user_id):
            if candidate.active and not candidate.share and candidate.email:
                return candidate.partner_id
        return self.env.company.partner_id

    def _get_followup_activity_responsible(self, level, moves):
        """Return the user who gets the activities of a reminder.

        The one the level asks for, then the follow-up responsible, the customer's
        salesperson, the salesperson of the invoices and the user sending the reminder
        (see `_get_followup_fallback_user`).
        """
        self.ensure_one()
        by_type = {
            "followup": self.followup_responsible_id,
            "salesperson": moves.invoice_user_id[:1],
            "account_manager": self.user_id,
        }
        candidates = [
            by_type.get(level.activity_default_responsible_type),
            self.followup_responsible_id,
            self.user_id,
            moves.invoice_user_id[:1],
        ]
        for user in candidates:
            if user and user.active and not user.share:
                return user
        return self._get_followup_fallback_user()

    @api.model
    def _get_followup_fallback_user(self):
        """Return who gets a follow-up task nobody else is named for: the user at work, or for
        the automatic reminders (OdooBot, whom nobody reads) an accounting manager of the
        company."""
        user = self.env.user
        if not user._is_superuser():
            return user
        company = self.env.company
        managers = self.env.ref("account.group_account_manager").users.filtered(
            lambda manager: manager.active and not manager.share and company in manager.company_ids
        )
        return managers.sorted("id")[:1] or user

    def _get_followup_channel_labels(self):
        return {
            "email": _("email"),
            "sms": _("SMS"),
            "snailmail": _("letter by post"),
            "print": _("printed letter"),
            "activity": _("activity"),
        }

    def _prepare_followup_options(self, level, options, batch=None):
        """Complete the options of a reminder with the settings of its level.

        Keys: ``email``, ``mail_template`` (mail.template), ``email_recipients``
        (res.partner, ``None``: the follow-up contacts), ``subject``/``body``/``email_from``
        (``None``: rendered from the template), ``post_values`` (more values of
        the message, prepared by the batch), ``sms``, ``sms_template``, ``sms_body``,
        ``snailmail``, ``print``, ``join_invoices``, ``attachments`` (ir.attachment,
        ``None``: the PDFs of the open invoices), ``activity``, ``manual`` (send even
        when the customer is not in need of action), ``force_send`` (send emails now
        rather than through the mail queue), ``postpone_failures`` (cron: retry
        tomorrow the customers nothing could be sent to).
        """
        options = {
            "email": level.send_email,
            "mail_template": level.mail_template_id,
            "email_recipients": None,
            "subject": None,
            "body": None,
            "email_from": None,
            "post_values": {},
            "sms": level.send_sms,
            "sms_template": level.sms_template_id,
            "sms_body": None,
            "snailmail": level.send_letter,
            "print": False,
            "join_invoices": level.join_invoices,
            "attachments": None,
            "activity": level.create_activity and bool(level.activity_type_id),
            "manual": False,
            "force_send": False,
            "postpone_failures": False,
            **options,
        }
        # the email the batch rendered for this customer, when still the one to send
        prepared = (batch or {}).get("emails", {}).get((self.id, options["mail_template"].id))
        if prepared and options["subject"] is None and options["body"] is None:
            options.update(prepared)
        return options

    def _execute_followup(self, options=None, batch=None):
        """Send the customer's reminder: the one code path of the wizard, batch and cron.

        Decide again first (an invoice paid in this transaction is never reminded of),
        send through each channel, then step up the due lines and set the next reminder
        date.  A channel the customer has no contact details for is reported, not
        silently dropped; when nothing at all could go out, nothing is marked as sent.

        :param dict options: see `_prepare_followup_options`; the level defaults to
            the customer's current level (``level``: account.followup.level)
        :param dict batch: what `_followup_prepare_batch` made ready for several
            customers at once (used only where it still matches this customer); with a
            batch, the caller writes the ``log`` of the result (`_followup_write_logs`)
        :return: ``{"status": "sent" | "skipped" | "nothing_sent", "level": level,
            "channels": [names], "missing": [names], "reason": str, "letter": ir.attachment,
            "log": see `_mark_followup_sent` (when sent)}``
        """
        self.ensure_one()
        options = dict(options or {})
        Level = self.env["account.followup.level"]
        today = fields.Date.context_today(self)
        result = {
            "status": "skipped",
            "level": Level,
            "channels": [],
            "missing": [],
            "reason": "",
            "letter": self.env["ir.attachment"],
        }
        own_batch = batch is None
        if own_batch:
            batch = self._followup_prepare_batch(options)
        decision = self._followup_decide([self.id]).get(self.id)
        in_need = decision is not None and decision.status == followup_rules.STATUS_IN_NEED
        if not in_need and not options.get("manual"):
            result["reason"] = _("%(partner)s needs no reminder today.", partner=self.display_name)
            return result
        level = options.pop("level", None) or Level.browse(decision.level_id if decision else False)
        open_lines = self._get_followup_open_lines(batch)
        if not level or not open_lines:
            result["reason"] = _("%(partner)s has no open invoice to remind of.", partner=self.display_name)
            return result
        result["level"] = level
        options = self._prepare_followup_options(level, options, batch=batch)

        if options["email"]:
            recipients = self._get_followup_email_recipients(options["email_recipients"])
            if recipients and (options["mail_template"] or options["body"]):
                self._send_followup_email(recipients, options)
                result["channels"].append("email")
            else:
                result["missing"].append("email")
        if options["sms"]:
            recipients = self._get_followup_sms_recipients()
            if recipients and (options["sms_template"] or options["sms_body"]):
                self._send_followup_sms(recipients, options)
                result["channels"].append("sms")
            else:
                result["missing"].append("sms")
        if options["snailmail"] or options["print"]:
            result["letter"] = self._get_followup_letter_attachment()
        if options["snailmail"]:
            recipients = self._get_followup_letter_recipients()
            if recipients:
                self._send_followup_letters(recipients, result["letter"])
                result["channels"].append("snailmail")
            else:
                result["missing"].append("snailmail")
        if options["print"]:
            result["channels"].append("print")
        # Sent by hand before the rules ask for it: the overdue lines are the ones reminded of.
        ladder = Level._get_ladder(self.env.company)
        lines = self._get_followup_due_lines(ladder, today, open_lines) or open_lines.filtered(
            lambda line: (line.date_maturity or line.date) <= today
        )
        if options["activity"]:
            self._schedule_followup_activity(level, lines.move_id or open_lines.move_id)
            result["channels"].append("activity")
        if result["missing"]:
            self._notify_followup_missing(level, result["missing"], nothing_sent=not result["channels"])
            if not result["channels"]:
                return self._followup_nothing_sent(result, options)
        result["log"] = self._mark_followup_sent(level, lines, result["channels"])
        if own_batch:
            self._followup_write_logs([result["log"]])
        result["status"] = "sent"
        return result

    def _followup_nothing_sent(self, result, options):
        """Report a reminder nothing could be sent of; the cron retries it tomorrow."""
        result["status"] = "nothing_sent"
        result["reason"] = _(
            "Nothing could be sent to %(partner)s: contact details are missing.",
            partner=self.display_name,
        )
        if options["postpone_failures"]:
            self._postpone_followup()
        return result

    def _send_followup_email(self, recipients, options):
        """Post the reminder in the customer's chatter and email it to ``recipients``."""
        self.ensure_one()
        template = options["mail_template"]
        subject = options["subject"]
        body = options["body"]
        if subject is None:
            subject = template._render_field("subject", self.ids, compute_lang=True)[self.id]
        if body is None:
            body = template._render_field(
                "body_html", self.ids, compute_lang=True, options={"post_process": True}
            )[self.id]
        attachments = self.env["ir.attachment"]
        if options["join_invoices"]:
            attachments = options["attachments"]
            if attachments is None:
                attachments = self._get_followup_invoice_attachments(self._get_followup_invoices())
        post_values = dict(options["post_values"])
        if template:
            email_from = options["email_from"]
            if email_from is None:
                email_from = template._render_field("email_from", self.ids)[self.id]
            if email_from:
                post_values["email_from"] = email_from
            post_values["mail_server_id"] = template.mail_server_id.id
        poster, author = self._followup_poster()
        return poster.with_context(mail_notify_force_send=options["force_send"]).message_post(
            # the sender (no search of a partner by email, as the mail composer does)
            author_id=author.id,
            body=body,
            subject=subject,
            partner_ids=recipients.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            email_layout_xmlid="mail.mail_notification_light",
            mail_auto_delete=False,
            # copies linked to the message: the invoices keep their own PDF
            attachments=[(attachment.name, attachment.raw) for attachment in attachments],
            **post_values,
        )

    def _send_followup_sms(self, recipients, options):
        """Queue the reminder SMS to ``recipients`` (mobile, else phone)."""
        self.ensure_one()
        body = options["sms_body"]
        if not body:
            body = options["sms_template"]._render_field("body", self.ids, compute_lang=True)[self.id]
        poster, author = self._followup_poster()
        return poster._message_sms(body, partner_ids=recipients.ids, put_in_queue=True, author_id=author.id)

    def _followup_poster(self):
        """Return the customer to post a reminder on, and its author (`_get_followup_author`).

        The author of a message follows the customer from then on, to get the replies;
        not the company itself, which would get a copy of every message of every customer.
        """
        author = self._get_followup_author()
        if author == self.env.company.partner_id:
            return self.with_context(mail_create_nosubscribe=True), author
        return self, author

    def _prepare_followup_letter_values(self, recipient, attachment):
        return {
            "partner_id": recipient.id,
            "model": self._name,
            "res_id": self.id,
            "user_id": self.env.user.id,
            "company_id": self.env.company.id,
            "report_template": self.env.ref("account_payment_followup.action_report_followup").id,
            "attachment_id": attachment.id,
        }

    def _send_followup_letters(self, recipients, attachment):
        """Queue one letter per address: snailmail's own cron posts them."""
        self.ensure_one()
        return self.env["snailmail.letter"].create(
            [self._prepare_followup_letter_values(recipient, attachment) for recipient in recipients]
        )

    def _schedule_followup_activity(self, level, moves):
        """Schedule the activity of the level for the person it names."""
        self.ensure_one()
        activity_type = level.activity_type_id
        return self.activity_schedule(
            activity_type_id=activity_type.id,
            summary=level.activity_summary or activity_type.summary,
            note=level.activity_note or activity_type.default_note,
            user_id=self._get_followup_activity_responsible(level, moves).id,
            date_deadline=self.env["mail.activity"]._calculate_date_deadline(activity_type),
        )

    def _notify_followup_missing(self, level, missing, nothing_sent=False):
        """Tell a person which contact details the reminder could not be sent without."""
        self.ensure_one()
        labels = self._get_followup_channel_labels()
        channels = ", ".join(labels[channel] for channel in missing)
        if nothing_sent:
            note = _(
                'The reminder "%(level)s" could not be sent by %(channels)s: complete the '
                "customer's contact details (email, mobile, address) and send it again.",
                level=level.name,
                channels=channels,
            )
        else:
            note = _(
                'The reminder "%(level)s" was not sent by %(channels)s: complete the '
                "customer's contact details (email, mobile, address).",
                level=level.name,
                channels=channels,
            )
        self._message_log(body=note)
        self._schedule_followup_todo(_("Complete the follow-up contact details"), note, level)

    def _schedule_followup_todo(self, summary, note, level=None):
        """Schedule a to-do for the follow-up responsible, once until it is done."""
        todo_type = self.env.ref("mail.mail_activity_data_todo", raise_if_not_found=False)
        if not todo_type or self.activity_ids.filtered(
            lambda activity: activity.activity_type_id == todo_type and activity.summary == summary
        ):
            return self.env["mail.activity"]
        level = level or self.env["account.followup.level"]
        return self.activity_schedule(
            activity_type_id=todo_type.id,
            summary=summary,
            note=note,
            user_id=self._get_followup_activity_responsible(level, self.env["account.move"]).id,
        )

    def _postpone_followup(self):
        """Retry tomorrow a reminder that could not be sent today (cron)."""
        self.followup_next_action_date = fields.Date.add(fields.Date.context_today(self), days=1)

    def _mark_followup_sent(self, level, lines, channels):
        """Step the lines up the ladder; return what `_followup_write_logs` writes.

        :return: ``{"partner_id", "next_date", "note", "move_notes": {move id: note}}``
        """
        self.ensure_one()
        today = fields.Date.context_today(self)
        ladder = self.env["account.followup.level"]._get_ladder(self.env.company)
        by_level = {}
        for line in lines:
            following = followup_rules.next_level(
                ladder, line.followup_level_id.delay if line.followup_level_id else None
            )
            by_level.setdefault(following.id, self.env["account.move.line"])
            by_level[following.id] |= line
        for level_id, level_lines in by_level.items():
            level_lines._followup_set_level(level_id, today)
        next_date = followup_rules.next_reminder_date(ladder, level.id, today)
        labels = self._get_followup_channel_labels()
        channel_names = ", ".join(labels[channel] for channel in channels) or _("no channel")
        note_values = {"level": level.name, "channels": channel_names, "date": tools.format_date(self.env, today)}
        if self.env.user._is_superuser():  # the cron
            move_note = _('Payment reminder "%(level)s" sent automatically by %(channels)s on %(date)s.', **note_values)
        else:
            move_note = _(
                'Payment reminder "%(level)s" sent by %(channels)s on %(date)s by %(user)s.',
                user=self.env.user.name,
                **note_values,
            )
        return {
            "partner_id": self.id,
            "next_date": next_date,
            "note": _(
                'Reminder "%(level)s" sent by %(channels)s. Next reminder on %(date)s.',
                level=level.name,
                channels=channel_names,
                date=tools.format_date(self.env, next_date),
            ),
            "move_notes": {move.id: move_note for move in lines.move_id},
        }

    @api.model
    def _followup_write_logs(self, logs):
        """Set the next reminder dates and write the chatter notes of reminders sent, at once.

        :param list logs: what `_mark_followup_sent` returned, one per customer
        """
        by_date = defaultdict(list)
        for log in logs:
            by_date[log["next_date"]].append(log["partner_id"])
        for next_date, partner_ids in by_date.items():
            # not tracked: the note tells the next date along with the reminder
            self.browse(partner_ids).with_context(mail_notrack=True).followup_next_action_date = next_date
        if logs:
            self.browse([log["partner_id"] for log in logs])._message_log_batch(
                bodies={log["partner_id"]: log["note"] for log in logs}
            )
        move_notes = {}
        for log in logs:
            move_notes.update(log["move_notes"])
        if move_notes:
            # notes only, no notification: the rights on the invoices were checked by the search
            self.env["account.move"].browse(list(move_notes))._message_log_batch(bodies=move_notes)

    @api.model
    def _followup_lock(self, partner_ids):
        """Lock customers for this transaction; return those no other runner holds.

        The rows are also touched: a runner whose snapshot predates our commit then
        fails to lock them (serialization error) instead of deciding from stale data.
        """
        if not partner_ids:
            return []
        self.env.cr.execute(
            SQL(
                """
                UPDATE res_partner SET write_date = write_date
                 WHERE id IN (SELECT id FROM res_partner WHERE id = ANY(%s) ORDER BY id FOR UPDATE SKIP LOCKED)
             RETURNING id
                """,
                list(partner_ids),
            )
        )
        return [row[0] for row in self.env.cr.fetchall()]

    def _followup_process(self, options=None):
        """Send the reminders of the customers, each one on its own.

        A customer another runner is processing is skipped; an error rolls back that
        customer only, is logged and shown on the customer.

        :return: ``{"sent", "missing", "failed": res.partner, "skipped": {partner_id: reason}}``
        """
        results = {"sent": self.browse(), "missing": self.browse(), "failed": self.browse(), "skipped": {}}
        locked = set(self._followup_lock(self.ids))
        batch = self.browse([partner.id for partner in self if partner.id in locked])._followup_prepare_batch(options)
        logs = []
        for partner in self:
            if partner.id not in locked:
                results["skipped"][partner.id] = _(
                    "%(partner)s is being reminded by another process.", partner=partner.display_name
                )
                continue
            try:
                with self.env.cr.savepoint():
                    result = partner._execute_followup(options, batch=batch)
            except psycopg2.OperationalError:
                raise  # concurrency: let the whole transaction be retried
            except Exception as error:  # noqa: BLE001 one customer must not stop the others
                _logger.exception("Follow-up of partner %s failed", partner.id)
                partner._notify_followup_error(error)
                if (options or {}).get("postpone_failures"):
                    partner._postpone_followup()
                results["failed"] |= partner
                continue
            if result["status"] == "sent":
                results["sent"] |= partner
                logs.append(result["log"])
            elif result["status"] == "skipped":
                results["skipped"][partner.id] = result["reason"]
            if result["missing"]:
                results["missing"] |= partner
        self._followup_write_logs(logs)
        return results

    def _followup_prepare_batch(self, options=None):
        """Make ready at once what the reminders of these customers need.

        The queries and renderings that would otherwise be repeated customer by
        customer: their open lines, the payment tokens of their invoices, the invoice
        PDFs never printed yet (one report run for the whole batch) and the emails of
        their levels (each template rendered once for all the customers using it).
        Whatever fails here is left to each customer's own reminder, which then fails
        or succeeds alone.

        :return: ``{"emails": {(partner_id, template_id): {"subject", "body",
            "email_from", "post_values"}}, "lines": {customer id: line ids}}``, see
            `_execute_followup`
        """
        options = options or {}
        batch = {"emails": {}, "lines": {}}
        if not self:
            return batch
        # read the lines afresh, as they are now that the customers are locked
        self.env["account.move.line"].invalidate_model()
        self.invalidate_recordset()
        decisions = self._followup_decide(self.ids)
        partners = self.browse([
            partner_id for partner_id, decision in decisions.items()
            if decision.status == followup_rules.STATUS_IN_NEED or options.get("manual")
        ])
        Level = self.env["account.followup.level"]
        levels = {
            partner.id: options.get("level") or Level.browse(decisions[partner.id].level_id)
            for partner in partners
        }
        lines = partners._get_followup_lines()
        lines.fetch(["partner_id", "amount_residual", "date", "date_maturity", "followup_level_id",
                     "followup_date", "currency_id", "amount_residual_currency", "move_id"])
        for line in lines:
            batch["lines"].setdefault(line.partner_id.id, []).append(line.id)
        invoices = lines.filtered(lambda line: line.amount_residual > 0).move_id
        invoices.fetch(["name", "move_type", "invoice_date", "invoice_origin", "payment_reference", "ref",
                        "access_token", "invoice_pdf_report_id"])
        Report = self.env["report.account_payment_followup.report_followup"]
        if Report._followup_can_pay_online():
            invoices.filtered(lambda move: move.move_type == "out_invoice")._followup_ensure_access_tokens()
        if options.get("email", True) and options.get("body") is None:
            by_template = defaultdict(list)
            for partner in partners:
                level = levels[partner.id]
                template = options.get("mail_template") or level.mail_template_id
                if template and options.get("email", level.send_email):
                    by_template[template].append(partner.id)
            emailed = self.browse([partner_id for ids in by_template.values() for partner_id in ids])
            # what message_post would otherwise look up customer by customer (sudo as it does:
            # the alias domain of a company the user may not read)
            alias_domains = emailed.sudo()._mail_get_alias_domains(default_company=self.env.company)
            companies = emailed._mail_get_companies(default=self.env.company)
            for template, partner_ids in by_template.items():
                try:
                    with self.env.cr.savepoint():
                        subjects = template._render_field("subject", partner_ids, compute_lang=True)
                        bodies = template._render_field(
                            "body_html", partner_ids, compute_lang=True, options={"post_process": True}
                        )
                        emails_from = template._render_field("email_from", partner_ids)
                except Exception:  # noqa: BLE001 each customer's own reminder reports it
                    _logger.info("Follow-up template %s: rendered customer by customer", template.id, exc_info=True)
                    continue
                by_sender = defaultdict(list)
                for partner in self.browse(partner_ids):
                    sender = emails_from[partner.id] or partner._get_followup_author().email_formatted
                    by_sender[sender].append(partner.id)
                reply_tos = {}
                for sender, sender_ids in by_sender.items():
                    reply_tos.update(self.browse(sender_ids)._notify_get_reply_to(default=sender))
                for partner_id in partner_ids:
                    batch["emails"][(partner_id, template.id)] = {
                        "subject": subjects[partner_id],
                        "body": bodies[partner_id],
                        "email_from": emails_from[partner_id],
                        "post_values": {
                            "reply_to": reply_tos[partner_id],
                            "record_alias_domain_id": alias_domains[partner_id].id,
                            "record_company_id": companies[partner_id].id,
                        },
                    }
        attach = partners.filtered(
            lambda partner: options.get("join_invoices", levels[partner.id].join_invoices)
            and options.get("email", levels[partner.id].send_email)
            and options.get("attachments") is None
        )
        if attach:
            missing = attach._get_followup_invoices().filtered(
                lambda move: not move.invoice_pdf_report_id
            )
            if missing:
                try:
                    with self.env.cr.savepoint():
                        self._followup_render_invoice_pdfs(missing)
                except Exception:  # noqa: BLE001 each customer's own reminder reports it
                    _logger.warning("Invoice PDFs of a follow-up batch: rendered customer by customer", exc_info=True)
                missing.invalidate_recordset(["invoice_pdf_report_id", "invoice_pdf_report_file"])
        return batch

    def _notify_followup_error(self, error):
        """Show on the customer that its reminder failed, for someone to look at it."""
        self.ensure_one()
        note = _("The payment reminder could not be sent: %(error)s", error=str(error))
        self._message_log(body=note)
        self._schedule_followup_todo(_("Payment reminder failed"), note)

    @api.model
    def _get_followup_cron_batch_size(self):
        """Customers reminded per transaction by the cron."""
        return 100

    @api.model
    def _followup_can_commit(self):
        """Tell whether the cron may commit its batches: never inside tests.

        ``modules.module.current_test`` is only set for at_install tests: post_install
        tests run with the thread's ``testing`` flag, as Odoo's mail queue checks.
        """
        return not getattr(threading.current_thread(), "testing", False)

    @api.model
    def _get_followup_cron_partner_ids(self):
        """Return the customers of the current company the cron reminds today."""
        decisions = self._followup_decide()
        auto_level_ids = set(
            self.env["account.followup.level"]
            .search([("company_id", "=", self.env.company.id), ("auto_execute", "=", True)])
            .ids
        )
        candidate_ids = [
            partner_id
            for partner_id, decision in decisions.items()
            if decision.status == followup_rules.STATUS_IN_NEED and decision.level_id in auto_level_ids
        ]
        if not candidate_ids:
            return []
        return self.search(
            [("id", "in", candidate_ids), ("followup_reminder_type", "=", "automatic")], order="id"
        ).ids

    def _get_followup_items_by_currency(self):
        """Return the customer's open items for letters and emails, grouped by currency.

        Excluded lines are left out; credit notes and unmatched payments are items with
        a negative amount that reduce the totals.  The fields of all the lines are read
        at once: thousands of lines cost a few queries, not some per line.

        :return: a list of ``{"currency": res.currency, "lines": account.move.line,
            "rows": [dict], "total_due": float, "total_overdue": float}``, one per
            currency, sorted by currency name; rows are sorted by due date
        """
        self.ensure_one()
        today = fields.Date.context_today(self)
        lines = self.commercial_partner_id._get_followup_lines()
        lines.fetch(["date", "date_maturity", "currency_id", "amount_residual_currency", "move_id"])
        lines.move_id.fetch(["name", "invoice_date", "invoice_origin", "payment_reference", "ref"])
        by_currency = defaultdict(list)
        for line in lines.sorted(lambda line: (line.date_maturity or line.date, line.id)):
            by_currency[line.currency_id].append(line)
        groups = []
        for currency in sorted(by_currency, key=lambda currency: currency.name):
            rows = [self._prepare_followup_item_row(line, today) for line in by_currency[currency]]
            groups.append({
                "currency": currency,
                "lines": lines.browse([row["line"].id for row in rows]),
                "rows": rows,
                "total_due": currency.round(sum(row["amount"] for row in rows)),
                "total_overdue": currency.round(
                    sum(row["amount"] for row in rows if row["due_date"] < today)
                ),
            })
        return groups

    @api.model
    def _prepare_followup_item_row(self, line, today):
        """Return the values of one open item of the letter and emails."""
        move = line.move_id
        due_date = line.date_maturity or line.date
        amount = line.amount_residual_currency
        return {
            "line": line,
            "move": move,
            "name": move.name,
            "date": move.invoice_date or line.date,
            "due_date": due_date,
            "origin": move.invoice_origin or "",
            "reference": move.payment_reference or move.ref or "",
            "amount": amount,
            # only amounts owed are late: credit notes and payments are not
            "days_late": (today - due_date).days if amount > 0 and due_date < today else 0,
        }

    def _followup_items_table_html(self, groups=None):
        """Render the table of open items used in the reminder emails and the letter.

        Email-safe: inline styles only, alignments resolved for the customer's
        language direction (email clients ignore ``dir`` and ``text-align: start``).

        :param groups: see `_get_followup_items_by_currency` (computed when not given)
        """
        self.ensure_one()
        partner = self.commercial_partner_id
        lang = partner.lang or self.env.lang or "en_US"
        if groups is None:
            groups = partner._get_followup_items_by_currency()
        rtl = self.env["res.lang"]._lang_get(lang).direction == "rtl"
        Report = self.env["report.account_payment_followup.report_followup"]
        return self.env["ir.qweb"]._render(
            "account_payment_followup.followup_items_table",
            {
                "partner": partner,
                "groups": groups,
                "today": fields.Date.context_today(self),
                "pay_urls": Report._get_followup_pay_urls(groups),
                "align_start": "right" if rtl else "left",
                "align_end": "left" if rtl else "right",
                # plain text in the customer's language: lighter than field widgets, for
                # every row of every reminder
                "format_date": lambda date: tools.format_date(self.env, date, lang_code=lang),
                "format_amount": lambda amount, currency: tools.format_amount(
                    self.env, amount, currency, lang_code=lang
                ),
            },
            lang=lang,
        )

    # ------------------------------------------------------------
    # CRON
    # ------------------------------------------------------------

    @api.model
    def _cron_execute_followups(self, batch_size=None, max_batches=10):
        """Send the automatic reminders of every company, in committed batches.

        Each batch is locked (two runners never remind the same customer), decided
        again, sent and committed, so that a crash or a time limit loses nothing and
        sends nothing twice.  After ``max_batches`` batches the cron triggers itself
        again to go on.  Never prints.
        """
        batch_size = batch_size or self._get_followup_cron_batch_size()
        options = {"print": False, "postpone_failures": True}
        work_left = False
        for company in self.env["res.company"].search([]):
            partners = self.with_company(company)
            # decided once for the run: each batch decides again, after its lock
            candidate_ids = partners._get_followup_cron_partner_ids()
            batches = [candidate_ids[start:start + batch_size] for start in range(0, len(candidate_ids), batch_size)]
            for batch in batches[:max_batches]:
                partners.browse(batch)._followup_process(options)
                if self._followup_can_commit():
                    # each batch is kept even if a later one crashes
                    self.env.cr.commit()  # pylint: disable=invalid-commit
            work_left = work_left or len(batches) > max_batches
        if work_left:
            self.env.ref("account_payment_followup.ir_cron_execute_followups")._trigger()
