from werkzeug.urls import url_encode

from odoo import _, fields, http
from odoo.exceptions import AccessError, MissingError
from odoo.http import content_disposition, request
from odoo.tools import consteq

from odoo.addons.portal.controllers.portal import CustomerPortal


class FollowupPortalMixin:
    """What the follow-up page's controllers share: the access check, the values of the
    page and its documents. ``FollowupPortal`` serves the page; ``FollowupPaymentPortal``
    (controllers/payment.py) its payments, when ``account_payment`` is installed."""

    def _followup_check_access(self, partner_id, access_token, company_id=None):
        """Return the customer (sudo) and the company of its page, or raise AccessError.

        The token of the link is checked as the portal checks an invoice's
        (``_document_check_access``). Without it, only the customer's own portal users
        and the accountants (its preview) may open the page.

        :raise MissingError: when the customer does not exist
        """
        customer_sudo = self._document_check_access("res.partner", partner_id, access_token)
        if customer_sudo.commercial_partner_id != customer_sudo:
            raise AccessError(self._followup_refused_message())  # links are those of the customer only
        with_token = bool(
            access_token and customer_sudo.access_token and consteq(customer_sudo.access_token, access_token)
        )
        user = request.env.user
        if not with_token:
            if user.share:
                if user._is_public() or user.commercial_partner_id != customer_sudo:
                    raise AccessError(self._followup_refused_message())
            elif not (
                user.has_group("account.group_account_invoice") or user.has_group("account.group_account_readonly")
            ):
                raise AccessError(self._followup_refused_message())
        # sudo: the visitor may not read companies; any company of the link, for its customer
        companies_sudo = request.env["res.company"].sudo()
        company = companies_sudo.browse(self._cast_company_id(company_id)).exists()
        if not company:
            company = customer_sudo.company_id or companies_sudo.browse(request.env.company.id)
        return customer_sudo.with_company(company), company

    @staticmethod
    def _followup_refused_message():
        return _("You cannot open the follow-up page of this customer.")

    @staticmethod
    def _cast_company_id(company_id):
        try:
            return int(company_id)
        except (TypeError, ValueError):
            return 0

    def _followup_set_lang(self, customer_sudo):
        """Show the page in the customer's language to visitors of the link."""
        if request.env.user._is_public() and customer_sudo.lang:
            lang = request.env["res.lang"]._lang_get(customer_sudo.lang)
            if lang and lang.active:
                request.update_context(lang=lang.code)

    @staticmethod
    def _followup_report(customer_sudo, company):
        return (
            request.env["report.account_payment_followup.report_followup"]
            .sudo()  # the page shows the receivable lines of the customer, whoever the visitor
            .with_company(company)
            .with_context(lang=request.env.lang)
        )

    def _prepare_followup_page_values(self, customer_sudo, company, access_token, **kwargs):
        """Return the values of the follow-up page (see the template ``portal_followup_page``)."""
        report = self._followup_report(customer_sudo, company)
        groups = report._get_followup_items_by_currency(customer_sudo)
        page_url = self._get_followup_page_url(customer_sudo, company, access_token)
        return {
            "page_name": "followup",
            "customer": customer_sudo,
            "res_company": company,  # the logo and name of the company the invoices are from
            "company": company,
            "groups": groups,
            "today": fields.Date.context_today(report),
            "has_overdue": any(group["total_overdue"] > 0 for group in groups),
            "bank_accounts": company.partner_id.bank_ids,
            "references": report._get_followup_payment_references(groups),
            "access_token": access_token,
            "no_breadcrumbs": request.env.user._is_public(),
            "page_url": page_url(),
            "letter_url": page_url("/letter"),
            "statement_url": page_url("/statement"),
            **self._get_followup_pay_urls(customer_sudo, company, groups, page_url),
        }

    def _followup_can_pay_online(self, company):
        """Tell whether the invoices of the company can be paid online: ``account_payment``
        is installed, the payment of invoices from the portal is enabled, and a payment
        provider of the company is enabled (or in test mode)."""
        report = request.env["report.account_payment_followup.report_followup"]
        if not report._followup_can_pay_online():
            return False
        # sudo: visitors may not read the providers; only whether one is enabled
        providers_sudo = request.env["payment.provider"].sudo()
        return bool(providers_sudo.search_count(
            [*providers_sudo._check_company_domain(company), ("state", "in", ("enabled", "test"))], limit=1
        ))

    def _get_followup_invoices_to_pay(self, groups, currency=None):
        """Return the invoices of the page that can be paid online, of one currency or all.

        Those Odoo's invoice page would offer to pay (``account.move._has_to_be_paid``):
        posted, not paid, without a pending payment.
        """
        invoices = request.env["account.move"].sudo()  # the invoices of the customer's page
        for group in groups:
            if currency is None or group["currency"] == currency:
                invoices |= group["lines"].move_id
        return invoices.filtered(lambda move: move.move_type == "out_invoice" and move._has_to_be_paid())

    def _get_followup_overdue_invoices(self, groups, invoices):
        """Return those of ``invoices`` that have an overdue item on the page."""
        overdue = {row["move"].id for group in groups for row in group["rows"] if row["days_late"]}
        return invoices.filtered(lambda move: move.id in overdue)

    def _get_followup_pay_urls(self, customer_sudo, company, groups, page_url):
        """Return the payment links of the page: ``pay_urls`` ({invoice id: its payment on
        Odoo's invoice page}) and ``pay_all_urls`` ({currency id: the payment of all the
        overdue invoices of that currency}); empty when invoices cannot be paid online."""
        if not groups or not self._followup_can_pay_online(company):
            return {"pay_urls": {}, "pay_all_urls": {}}
        invoices = self._get_followup_invoices_to_pay(groups)
        pay_urls = {invoice.id: invoice.get_portal_url(anchor="portal_pay") for invoice in invoices}
        pay_all_urls = {}
        overdue = self._get_followup_overdue_invoices(groups, invoices)
        for currency in overdue.currency_id:
            pay_all_urls[currency.id] = page_url("/pay", currency_id=currency.id)
        return {"pay_urls": pay_urls, "pay_all_urls": pay_all_urls}

    @staticmethod
    def _get_followup_page_url(customer_sudo, company, access_token):
        """Return ``function(suffix="", **params)``: the relative URLs of the page and of
        its documents, with the visitor's token."""

        def page_url(suffix="", **params):
            query = {"company_id": company.id, **params}
            if access_token:
                query["access_token"] = access_token
            return f"/my/followup/{customer_sudo.id}{suffix}?{url_encode(query)}"

        return page_url

    def _followup_show_pdf(self, customer_sudo, company, report_ref, data=None):
        """Return the PDF of a report on the customer, in the company of the page."""
        # sudo: the visitor (public or portal) renders a report of the accounting, as portal does
        report_sudo = request.env["ir.actions.report"].sudo().with_company(company)
        pdf = report_sudo._render_qweb_pdf(report_ref, customer_sudo.ids, data=data)[0]
        report = report_sudo._get_report(report_ref)
        filename = f"{report.name} - {customer_sudo.name}.pdf"
        headers = [
            ("Content-Type", "application/pdf"),
            ("Content-Length", len(pdf)),
            ("Content-Disposition", content_disposition(filename)),
        ]
        return request.make_response(pdf, headers=headers)


class FollowupPortal(FollowupPortalMixin, CustomerPortal):
    """The customer's follow-up page: its open items, the follow-up letter and the
    statement of account, for the visitor with the link of a reminder (its token) or
    a portal user of the customer (*My account*)."""

    # ------------------------------------------------------------
    # MY ACCOUNT
    # ------------------------------------------------------------

    def _prepare_home_portal_values(self, counters):
        """Extends `portal` to count the follow-up page on the portal home when the
        user's customer has something open."""
        values = super()._prepare_home_portal_values(counters)
        if "followup_count" in counters:
            customer_sudo = request.env.user.commercial_partner_id.sudo()  # its receivable lines
            values["followup_count"] = len(customer_sudo.with_company(request.env.company)._get_followup_open_lines())
        return values

    @http.route(["/my/followup"], type="http", auth="user", website=True)
    def portal_my_followup(self, **kwargs):
        """Open the follow-up page of the user's customer."""
        customer = request.env.user.commercial_partner_id
        return request.redirect(f"/my/followup/{customer.id}")

    # ------------------------------------------------------------
    # THE FOLLOW-UP PAGE
    # ------------------------------------------------------------

    @http.route(["/my/followup/<int:partner_id>"], type="http", auth="public", website=True, sitemap=False)
    def portal_followup_page(self, partner_id, access_token=None, company_id=None, **kwargs):
        """Show the customer's open items of one company, by currency."""
        try:
            customer_sudo, company = self._followup_check_access(partner_id, access_token, company_id)
        except (AccessError, MissingError):
            return request.redirect("/my")
        self._followup_set_lang(customer_sudo)
        values = self._prepare_followup_page_values(customer_sudo, company, access_token, **kwargs)
        return request.render("account_payment_followup.portal_followup_page", values)

    @http.route(["/my/followup/<int:partner_id>/letter"], type="http", auth="public", website=True, sitemap=False)
    def portal_followup_letter(self, partner_id, access_token=None, company_id=None, **kwargs):
        """Download the follow-up letter of the customer (the report the reminders attach)."""
        try:
            customer_sudo, company = self._followup_check_access(partner_id, access_token, company_id)
        except (AccessError, MissingError):
            return request.redirect("/my")
        return self._followup_show_pdf(
            customer_sudo, company, "account_payment_followup.action_report_followup"
        )

    @http.route(["/my/followup/<int:partner_id>/statement"], type="http", auth="public", website=True, sitemap=False)
    def portal_followup_statement(self, partner_id, access_token=None, company_id=None, date_from=None,
                                  date_to=None, **kwargs):
        """Download the Customer Statement of the customer (default: the last 90 days)."""
        try:
            customer_sudo, company = self._followup_check_access(partner_id, access_token, company_id)
        except (AccessError, MissingError):
            return request.redirect("/my")
        try:
            data = {
                "date_from": date_from and fields.Date.to_string(fields.Date.to_date(date_from)),
                "date_to": date_to and fields.Date.to_string(fields.Date.to_date(date_to)),
            }
        except ValueError:
            data = {}
        return self._followup_show_pdf(
            customer_sudo, company, "account_payment_followup.action_report_customer_statement", data=data
        )
