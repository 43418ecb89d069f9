from odoo import _, api, fields, models

from . import followup_interest


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    followup_interest_policy = fields.Selection(related="company_id.followup_interest_policy", readonly=False)
    followup_interest_reference = fields.Selection(related="company_id.followup_interest_reference", readonly=False)
    followup_interest_margin = fields.Float(related="company_id.followup_interest_margin", readonly=False)
    followup_interest_consumer_margin = fields.Float(
        related="company_id.followup_interest_consumer_margin", readonly=False
    )
    followup_interest_rate = fields.Float(related="company_id.followup_interest_rate", readonly=False)
    followup_flat_compensation = fields.Monetary(related="company_id.followup_flat_compensation", readonly=False)
    followup_charge_consumers = fields.Boolean(related="company_id.followup_charge_consumers", readonly=False)
    followup_interest_product_id = fields.Many2one(related="company_id.followup_interest_product_id", readonly=False)
    followup_compensation_product_id = fields.Many2one(
        related="company_id.followup_compensation_product_id", readonly=False
    )
    followup_fee_product_id = fields.Many2one(related="company_id.followup_fee_product_id", readonly=False)
    followup_post_charges = fields.Boolean(related="company_id.followup_post_charges", readonly=False)

    followup_trust_good_days = fields.Float(related="company_id.followup_trust_good_days", readonly=False)
    followup_trust_bad_days = fields.Float(related="company_id.followup_trust_bad_days", readonly=False)
    followup_trust_good_late_share = fields.Float(
        related="company_id.followup_trust_good_late_share", readonly=False
    )
    followup_trust_bad_late_share = fields.Float(related="company_id.followup_trust_bad_late_share", readonly=False)
    followup_trust_good_reminders = fields.Float(related="company_id.followup_trust_good_reminders", readonly=False)
    followup_trust_bad_reminders = fields.Float(related="company_id.followup_trust_bad_reminders", readonly=False)
    followup_trust_bad_promises = fields.Integer(related="company_id.followup_trust_bad_promises", readonly=False)

    @api.onchange("followup_interest_policy")
    def _onchange_followup_interest_policy(self):
        """Fill the margins, reference and compensation the law of the company's country gives."""
        if self.followup_interest_policy != followup_interest.POLICY_STATUTORY:
            return None
        values = self.company_id._followup_statutory_values()
        if not values:
            country = self.company_id.account_fiscal_country_id or self.company_id.country_id
            return {
                "warning": {
                    "title": _("Statutory interest"),
                    "message": _(
                        "The statutory late-payment terms of %(country)s are not known: set the reference "
                        "rate, the margin and the flat compensation your law gives.",
                        country=country.name or _("your country"),
                    ),
                }
            }
        self.update(values)
        return None
