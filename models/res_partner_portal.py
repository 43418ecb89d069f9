# The customer's side of res.partner, in its own file (the follow-up is in res_partner.py).
# pylint: disable=consider-merging-classes-inherited
import secrets

from werkzeug.urls import url_encode

from odoo import _, api, fields, models, tools
from odoo.tools import SQL


class ResPartner(models.Model):
    """Extends `base` with the customer's follow-up page (``/my/followup``): the secret
    token of its link, the link the reminders carry, and the button that changes it.

    The token is checked as Odoo checks the token of an invoice (the portal's
    ``_document_check_access``): it lives in a field named ``access_token``.
    """

    _inherit = "res.partner"

    access_token = fields.Char(
        string="Follow-up Page Token",
        copy=False,
        groups="account.group_account_invoice,account.group_account_readonly",
        help="The secret of the link to the customer's follow-up page. Regenerate it to "
        "make the links already sent stop working.",
    )

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_followup_open_portal(self):
        """Open the customer's follow-up page, as the customer sees it."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_url",
            "url": self._get_followup_portal_url(),
            "target": "new",
        }

    def action_followup_regenerate_portal_link(self):
        """Give the customers a new link to their follow-up page: the old links stop working."""
        customers = self.commercial_partner_id
        for customer in customers:
            # sudo: the token is written by anyone who may regenerate it, as portal.mixin does
            customer.sudo().access_token = self._followup_new_token()
            customer.message_post(
                body=_("The link to the follow-up page was regenerated: the links sent before no longer work.")
            )
        return True

    # ------------------------------------------------------------
    # BUSINESS METHODS
    # ------------------------------------------------------------

    @staticmethod
    def _followup_new_token():
        """Return a token nobody can guess: 128 random bits (portal.mixin's UUIDs have 122),
        in 22 URL-safe characters, short enough for the link of an SMS."""
        return secrets.token_urlsafe(16)

    def _followup_ensure_portal_tokens(self):
        """Give the customers (commercial entities) without one the token of their page,
        at once, and read them all: the reminders of a batch then ask for none."""
        customers = self.commercial_partner_id.sudo()  # sudo: the token field is for accountants
        customers.fetch(["access_token"])
        missing = customers.filtered(lambda customer: not customer.access_token)
        if missing:
            # a technical column nothing depends on: one UPDATE rather than a write each
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE res_partner partner SET access_token = token.value
                      FROM unnest(%s::int[], %s::varchar[]) AS token(partner_id, value)
                     WHERE partner.id = token.partner_id AND partner.access_token IS NULL
                    """,
                    missing.ids,
                    [self._followup_new_token() for __ in missing],
                )
            )
            missing.invalidate_recordset(["access_token"])
            missing.fetch(["access_token"])

    @api.model
    @tools.ormcache()
    def _followup_several_companies(self):
        """Tell whether the database has several companies (then links name theirs).

        Cached: Odoo clears the cache when a company is created.
        """
        # sudo: only how many companies there are
        return self.env["res.company"].sudo().search_count([], limit=2) > 1

    def _portal_ensure_token(self):
        """Return the token of the customer's follow-up page, created on first use
        (as ``portal.mixin._portal_ensure_token``)."""
        self.ensure_one()
        customer = self.commercial_partner_id.sudo()  # sudo: the token field is for accountants
        if not customer.access_token:
            customer.access_token = self._followup_new_token()
        return customer.access_token

    def _get_followup_portal_url(self, suffix="", company=None, **params):
        """Return the full link of the customer's follow-up page (the one the reminders carry).

        :param str suffix: ``"/letter"``, ``"/statement"``, ... for the documents of the page
        :param company: the company whose open items the page shows (default: the current one)
        :param params: other parameters of the query
        """
        self.ensure_one()
        customer = self.commercial_partner_id
        company = company or self.env.company
        query = {"access_token": customer._portal_ensure_token(), **params}
        # only with several companies: single-company links stay short (SMS)
        if company != customer.company_id and self._followup_several_companies():
            query["company_id"] = company.id
        return f"{customer.get_base_url()}/my/followup/{customer.id}{suffix}?{url_encode(query)}"
