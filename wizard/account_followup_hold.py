from odoo import _, api, fields, models
from odoo.exceptions import UserError


class AccountFollowupHold(models.TransientModel):
    """Exclude invoices from follow-ups, with the reason and, if known, the day it ends."""

    _name = "account.followup.hold"
    _description = "Exclude from Follow-ups"

    line_ids = fields.Many2many("account.move.line", string="Invoices", required=True)
    note = fields.Char(string="Reason", required=True, help="e.g. disputed: wrong quantity delivered")
    date_until = fields.Date(
        string="Until",
        help="From this date the invoices count again in the follow-up; leave empty to exclude them "
        "until someone includes them again.",
    )

    @api.constrains("date_until")
    def _check_date_until(self):
        today = fields.Date.context_today(self)
        for wizard in self:
            if wizard.date_until and wizard.date_until <= today:
                raise UserError(_("The exclusion must end after today."))

    def action_hold(self):
        """Exclude the invoices with the reason and the end date."""
        self.ensure_one()
        self.line_ids.write({
            "blocked": True,
            "followup_hold_note": self.note,
            "followup_hold_until": self.date_until,
        })
        for move in self.line_ids.move_id:
            move._message_log(body=self._get_hold_note())
        return {"type": "ir.actions.act_window_close"}

    def _get_hold_note(self):
        if self.date_until:
            return _(
                "Excluded from follow-ups until %(date)s: %(reason)s",
                date=fields.Date.to_string(self.date_until),
                reason=self.note,
            )
        return _("Excluded from follow-ups: %(reason)s", reason=self.note)
