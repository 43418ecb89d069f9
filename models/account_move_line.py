from collections import defaultdict

from odoo import _, api, fields, models
from odoo.tools import SQL, format_date


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    # Core's "No Follow-up" flag is what excludes a line from follow-ups.
    blocked = fields.Boolean(
        string="Exclude from Follow-ups",
        help="Check this box to leave this invoice out of payment reminders, "
        "e.g. while it is disputed with the customer.",
    )
    followup_hold_note = fields.Char(
        string="Exclusion Reason",
        copy=False,
        help="Why this invoice is left out of payment reminders, e.g. the dispute it is in.",
    )
    followup_hold_until = fields.Date(
        string="Excluded Until",
        copy=False,
        help="From this date the invoice counts again in the follow-up (the same day), and the daily "
        "run ends its exclusion with a note and an activity for the follow-up responsible.",
    )
    followup_level_id = fields.Many2one(
        "account.followup.level",
        string="Follow-up Level",
        copy=False,
        readonly=True,
        ondelete="restrict",
        help="The last follow-up level sent for this line.",
    )
    followup_date = fields.Date(
        string="Latest Follow-up",
        copy=False,
        readonly=True,
        help="When the last reminder for this line was sent.",
    )

    # Late-payment charges: the lines of a charges invoice say what they charge, so that a
    # charge is never made twice and a cancelled charges invoice frees what it charged.
    followup_charged_line_id = fields.Many2one(
        "account.move.line",
        string="Charged Late Invoice",
        copy=False,
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="The receivable line of the late invoice this line charges interest or compensation for.",
    )
    followup_charge_type = fields.Selection(
        selection=[
            ("interest", "Late-payment interest"),
            ("compensation", "Flat compensation"),
            ("fee", "Reminder fee"),
        ],
        string="Late-payment Charge",
        copy=False,
        readonly=True,
    )
    followup_charged_until = fields.Date(
        string="Interest Charged Until",
        copy=False,
        readonly=True,
        help="The last day of the interest this line charges.",
    )

    def init(self):
        """Extends `account` with the index of the follow-up aggregation.

        A partial, covering index of the open receivable lines: the WHERE of
        ``res.partner._followup_query_groups`` is its predicate and every column that
        query reads is in it, so the status of 100,000 customers is an index-only scan
        and one customer's a few index pages, whatever the size of the table.
        Payable lines also match (the account type is on the account): they are few
        next to the income and tax lines the predicate leaves out.
        """
        res = super().init()
        cr = self.env.cr
        cr.execute(SQL("SELECT indexdef FROM pg_indexes WHERE indexname = %s", "account_move_line_followup_open_idx"))
        row = cr.fetchone()
        if row and "followup_hold_until" not in row[0]:
            # the index of before the exclusions with an end: excluded lines were left out
            cr.execute(SQL("DROP INDEX %s", SQL.identifier("account_move_line_followup_open_idx")))
            row = None
        if not row:
            # Excluded lines are in it (few next to the others): those whose exclusion ends
            # today count again at once, before the daily run clears their flag.
            cr.execute(SQL(
                """
                CREATE INDEX account_move_line_followup_open_idx
                    ON account_move_line (company_id, partner_id)
               INCLUDE (account_id, followup_level_id, amount_residual, date_maturity, date, followup_date,
                        blocked, followup_hold_until)
                 WHERE parent_state = 'posted'
                   AND reconciled IS NOT TRUE
                   AND partner_id IS NOT NULL
                   AND amount_residual <> 0
                """
            ))
        return res

    def action_open_followup_hold(self):
        """Exclude the line from follow-ups: ask for the reason and offer the end date."""
        return {
            "type": "ir.actions.act_window",
            "name": _("Exclude from Follow-ups"),
            "res_model": "account.followup.hold",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_line_ids": self.ids},
        }

    def action_followup_release(self):
        """Include the line in follow-ups again."""
        self.write({"blocked": False, "followup_hold_until": False})
        for move in self.move_id:
            move._message_log(body=_("Included in follow-ups again."))

    @api.model
    def _followup_end_holds(self, company, today):
        """End the exclusions of the company's lines whose end date has come: clear the flag,
        note it on the invoice and schedule an activity "Exclusion ended: reason" for the
        customer's follow-up responsible (the daily run).

        In batch whatever their number: the notes in one `_message_log_batch` per round (one
        note per line, a second round for an invoice with two lines ending), the activities
        in one `activity_schedule` per responsible and reason (without an email per activity),
        the flags in SQL (the ORM write of posted journal items re-synchronises their whole
        invoices, see `_followup_set_level`).
        """
        lines = self.search([
            ("company_id", "=", company.id),
            ("blocked", "=", True),
            ("followup_hold_until", "!=", False),
            ("followup_hold_until", "<=", today),
        ], order="id")
        if not lines:
            return lines
        Send = self.env["account.followup.send"]
        no_level = self.env["account.followup.level"]
        todo_type = self.env.ref("mail.mail_activity_data_todo", raise_if_not_found=False)
        notes = defaultdict(list)  # move id: its notes, one per line
        activities = defaultdict(lambda: self.env["account.move"])  # (user, summary): moves
        for line in lines:
            reason = line.followup_hold_note or _("no reason given")
            notes[line.move_id.id].append(_(
                "Exclusion from follow-ups ended on %(date)s: %(reason)s",
                date=format_date(self.env, line.followup_hold_until),
                reason=reason,
            ))
            if todo_type:
                partner = line.partner_id.commercial_partner_id
                user = Send._get_followup_activity_responsible(partner, no_level, line.move_id)
                activities[user, _("Exclusion ended: %(reason)s", reason=reason)] |= line.move_id
        Move = self.env["account.move"]
        while notes:
            Move.browse(list(notes))._message_log_batch(bodies={move_id: bodies.pop(0)
                                                                for move_id, bodies in notes.items()})
            notes = {move_id: bodies for move_id, bodies in notes.items() if bodies}
        # Without Odoo's email to the assignee for each activity (as hr_contract's daily run
        # of contracts ending): the responsible finds them in the activities, not one email
        # per invoice in the mailbox, and a day when many holds end costs no rendered email each.
        for (user, summary), moves in activities.items():
            moves.with_context(mail_activity_quick_update=True).activity_schedule(
                activity_type_id=todo_type.id, summary=summary, user_id=user.id
            )
        self.env.cr.execute(SQL(
            """
            UPDATE account_move_line
               SET blocked = FALSE, followup_hold_until = NULL, write_uid = %s, write_date = NOW() AT TIME ZONE 'UTC'
             WHERE id = ANY(%s)
            """,
            self.env.uid,
            lines.ids,
        ))
        lines.invalidate_recordset(["blocked", "followup_hold_until", "write_uid", "write_date"])
        return lines

    def _followup_set_level(self, level_id, followup_date):
        """Record that the lines received a reminder of ``level_id`` on ``followup_date``.

        Written in SQL: these two fields are the addon's own bookkeeping, nothing
        depends on them, and the ORM write of posted journal items re-synchronises
        their whole invoices (a hundred queries per invoice), which the cron cannot
        afford for thousands of customers.
        """
        if not self:
            return
        self.env.cr.execute(
            SQL(
                """
                UPDATE account_move_line
                   SET followup_level_id = %s, followup_date = %s, write_uid = %s, write_date = NOW() AT TIME ZONE 'UTC'
                 WHERE id = ANY(%s)
                """,
                level_id or None,
                followup_date or None,
                self.env.uid,
                self.ids,
            )
        )
        self.invalidate_recordset(["followup_level_id", "followup_date", "write_uid", "write_date"])
