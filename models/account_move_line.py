from odoo import fields, models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    # Core's "No Follow-up" flag is what excludes a line from follow-ups.
    blocked = fields.Boolean(
        string="Exclude from Follow-ups",
        help="Check this box to leave this invoice out of payment reminders, "
        "e.g. while it is disputed with the customer.",
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
