from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from . import followup_interest

# Key of the cursor's cache: the reference rates read in the transaction.
_RATES_CACHE = "account_payment_followup.reference_rates"


class AccountFollowupReferenceRate(models.Model):
    _name = "account.followup.reference.rate"
    _description = "Late-payment Reference Rate"
    _order = "reference, date_from desc"

    reference = fields.Selection(
        selection=[
            (followup_interest.REFERENCE_ECB, "ECB main refinancing operations"),
            (followup_interest.REFERENCE_DE_BASE, "German base rate (§247 BGB)"),
        ],
        required=True,
        default=followup_interest.REFERENCE_ECB,
    )
    date_from = fields.Date(
        string="Half-year",
        required=True,
        help="First day of the half-year (1 January or 1 July) the rate applies to.",
    )
    rate = fields.Float(
        string="Rate (%)",
        digits=(16, 4),
        required=True,
        group_operator=None,  # a sum of rates means nothing: grouped lists show none
        help="The reference rate in force on the first day of the half-year, in percent per year.",
    )

    _sql_constraints = [
        (
            "reference_date_uniq",
            "unique(reference, date_from)",
            "A reference has one rate per half-year.",
        ),
    ]

    @api.depends("reference", "date_from", "rate")
    def _compute_display_name(self):
        references = dict(self._fields["reference"]._description_selection(self.env))
        for record in self:
            record.display_name = _(
                "%(reference)s from %(date)s: %(rate)s %%",
                reference=references.get(record.reference, ""),
                date=record.date_from or "",
                rate=record.rate,
            )

    @api.constrains("date_from")
    def _check_date_from(self):
        for record in self:
            if record.date_from and record.date_from != followup_interest.half_year_start(record.date_from):
                raise ValidationError(
                    _("A reference rate applies to a half-year: it starts on 1 January or 1 July.")
                )

    @api.model_create_multi
    def create(self, vals_list):
        """Extends `base` to forget the rates read in this transaction."""
        self.env.cr.cache.pop(_RATES_CACHE, None)
        return super().create(vals_list)

    def write(self, vals):
        """Extends `base` to forget the rates read in this transaction."""
        self.env.cr.cache.pop(_RATES_CACHE, None)
        return super().write(vals)

    def unlink(self):
        """Extends `base` to forget the rates read in this transaction."""
        self.env.cr.cache.pop(_RATES_CACHE, None)
        return super().unlink()

    @api.model
    def _followup_rates(self, reference, first, last):
        """Return ``{half-year start: rate}`` of a reference for the days from ``first`` to ``last``.

        Read once per transaction and period: the customers of a cron batch share them.
        """
        starts = followup_interest.half_years(first, last)
        if not reference or not starts:
            return {}
        cache = self.env.cr.cache.setdefault(_RATES_CACHE, {})
        key = (reference, starts[0], starts[-1])
        if key not in cache:
            records = self.search_read(
                [("reference", "=", reference), ("date_from", ">=", starts[0]), ("date_from", "<=", starts[-1])],
                ["date_from", "rate"],
            )
            cache[key] = {record["date_from"]: record["rate"] for record in records}
        return dict(cache[key])
