# The ageing of a customer's open balance (issue 16): the columns of the Follow-up Reports
# and the measures of the Aged receivables pivot.
# pylint: disable=consider-merging-classes-inherited
from odoo import api, fields, models
from odoo.tools import SQL

# The ageing fields, in the order of the columns of `_followup_ageing_columns_sql`.
AGEING_FIELDS = ("ageing_not_due", "ageing_1_30", "ageing_31_60", "ageing_61_90", "ageing_over_90")


class ResPartner(models.Model):
    """Extends `base` with the ageing of the customer's open balance in the current company.

    One aggregation per request, whatever asks:

    * a page of the Follow-up Reports (or a form) computes the five fields with the status and
      the totals (`_compute_followup_data`): the query of the statuses sums the buckets too;
    * a grouped list or the Aged receivables pivot (``read_group``) gets them as columns of
      that aggregation, joined to the customers (`_field_to_sql`), so that PostgreSQL sums
      them per group in the query of the groups.

    Not an SQL view model (as ``account.invoice.report``): a view is created once, at install,
    while the buckets and the exclusions that end (``followup_hold_until``) depend on the
    user's today (``fields.Date.context_today``), which a view could only read as the
    server's ``CURRENT_DATE``. Not stored either: every day moves lines between buckets.
    """

    _inherit = "res.partner"

    ageing_not_due = fields.Monetary(
        string="Not Due",
        compute="_compute_followup_data",
        group_operator="sum",
        groups="account.group_account_readonly,account.group_account_invoice",
        help="Open balance not yet due (company currency).",
    )
    ageing_1_30 = fields.Monetary(
        string="1-30",
        compute="_compute_followup_data",
        group_operator="sum",
        groups="account.group_account_readonly,account.group_account_invoice",
        help="Open balance due 1 to 30 days ago (company currency).",
    )
    ageing_31_60 = fields.Monetary(
        string="31-60",
        compute="_compute_followup_data",
        group_operator="sum",
        groups="account.group_account_readonly,account.group_account_invoice",
        help="Open balance due 31 to 60 days ago (company currency).",
    )
    ageing_61_90 = fields.Monetary(
        string="61-90",
        compute="_compute_followup_data",
        group_operator="sum",
        groups="account.group_account_readonly,account.group_account_invoice",
        help="Open balance due 61 to 90 days ago (company currency).",
    )
    ageing_over_90 = fields.Monetary(
        string="Over 90",
        compute="_compute_followup_data",
        group_operator="sum",
        groups="account.group_account_readonly,account.group_account_invoice",
        help="Open balance due more than 90 days ago (company currency).",
    )

    # ------------------------------------------------------------
    # COMPUTE METHODS
    # ------------------------------------------------------------

    def _set_followup_ageing(self, ageing):
        """Set the ageing fields from ``{partner_id: [the five sums]}`` (`_followup_query_groups`)."""
        for partner in self:
            amounts = ageing.get(partner._origin.id) or [0.0] * len(AGEING_FIELDS)
            for fname, amount in zip(AGEING_FIELDS, amounts, strict=True):
                partner[fname] = amount

    # ------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------

    @api.model
    def read_group(self, domain, fields, groupby, offset=0, limit=None, orderby=False, lazy=True):
        """Extends `base` to sum the ageing fields in grouped lists.

        The web client asks grouped lists for their fields by name, which ``read_group``
        aggregates only when they are stored: ask for the ageing fields' sums explicitly.
        """
        fields = [f"{fname}:sum" if fname in AGEING_FIELDS else fname for fname in fields]
        return super().read_group(domain, fields, groupby, offset=offset, limit=limit, orderby=orderby, lazy=lazy)

    def _field_to_sql(self, alias, fname, query=None):
        """Extends `base` to read the ageing fields as columns of the ageing aggregation of the
        current company (`_followup_ageing_sql`), joined once to the customers of the query."""
        if fname not in AGEING_FIELDS or query is None:
            return super()._field_to_sql(alias, fname, query)
        ageing_alias = query.make_alias(alias, "followup_ageing")
        if ageing_alias not in query._joins:
            query.add_join(
                "LEFT JOIN",
                ageing_alias,
                SQL("(%s)", self._followup_ageing_sql(self.env.company, fields.Date.context_today(self))),
                SQL("%s = %s", SQL.identifier(ageing_alias, "partner_id"), SQL.identifier(alias, "id")),
            )
        return SQL("COALESCE(%s, 0)", SQL.identifier(ageing_alias, fname))
