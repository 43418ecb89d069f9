from odoo import _, http
from odoo.exceptions import AccessError, MissingError, ValidationError
from odoo.fields import Command
from odoo.http import request

from odoo.addons.account_payment.controllers.payment import PaymentPortal

from .portal import FollowupPortalMixin


class FollowupPaymentPortal(FollowupPortalMixin, PaymentPortal):
    """*Pay all overdue* on the follow-up page: one transaction for all the overdue
    invoices of a currency (``payment.transaction.invoice_ids``), through Odoo's payment
    form, whose payment reconciles them as the payment of an invoice does.

    Extends ``account_payment``'s controller: Odoo serves these routes only when
    ``account_payment`` is installed (this addon does not depend on it).
    """

    @http.route(["/my/followup/<int:partner_id>/pay"], type="http", auth="public", website=True, sitemap=False)
    def portal_followup_pay(self, partner_id, currency_id=None, access_token=None, company_id=None, **kwargs):
        """Show Odoo's payment form for all the overdue invoices of one currency."""
        try:
            customer_sudo, company = self._followup_check_access(partner_id, access_token, company_id)
        except (AccessError, MissingError):
            return request.redirect("/my")
        self._followup_set_lang(customer_sudo)
        page_values = self._prepare_followup_page_values(customer_sudo, company, access_token)
        # sudo: a visitor of the link may not read currencies
        currency = request.env["res.currency"].sudo().browse(self._cast_as_int(currency_id)).exists()
        invoices = self._get_followup_pay_all_invoices(page_values["groups"], currency)
        if not invoices or not self._followup_can_pay_online(company):
            return request.redirect(page_values["page_url"])
        values = {
            **page_values,
            **self._prepare_followup_payment_form_values(customer_sudo, company, invoices, access_token),
            **self._get_extra_payment_form_values(**kwargs),
        }
        return request.render("account_payment_followup.portal_followup_pay", values)

    @http.route(
        ["/my/followup/<int:partner_id>/transaction/<int:company_id>/<int:currency_id>"], type="json", auth="public"
    )
    def portal_followup_transaction(self, partner_id, company_id, currency_id, access_token=None, **kwargs):
        """Create the transaction of all the overdue invoices of one currency; return its
        processing values (the transaction route of the payment form).

        The invoices and the amount are decided again here, from the open items: the
        amount of the form must still be theirs.
        """
        try:
            customer_sudo, company = self._followup_check_access(partner_id, access_token, company_id)
        except (AccessError, MissingError) as error:
            raise ValidationError(_("The access token is invalid.")) from error
        groups = self._followup_report(customer_sudo, company)._get_followup_items_by_currency(customer_sudo)
        # sudo: a visitor of the link may not read currencies
        currency = request.env["res.currency"].sudo().browse(currency_id).exists()
        invoices = self._get_followup_pay_all_invoices(groups, currency)
        if not invoices:
            raise ValidationError(_("There is no overdue invoice left to pay."))
        amount = currency.round(sum(invoices.mapped("amount_residual")))
        if currency.compare_amounts(float(kwargs.get("amount") or 0.0), amount):
            raise ValidationError(_("The amount to pay has changed: please reload the page."))
        self._validate_transaction_kwargs(kwargs)
        logged_in = not request.env.user._is_public()
        # As account_payment does for an invoice: the tokens of a logged-in user are theirs.
        partner_sudo = request.env.user.partner_id if logged_in else customer_sudo
        kwargs.update({"amount": amount, "currency_id": currency.id, "partner_id": partner_sudo.id})
        tx_sudo = self._create_transaction(
            custom_create_values={"invoice_ids": [Command.set(invoices.ids)]}, **kwargs
        )
        return tx_sudo._get_processing_values()

    def _get_followup_pay_all_invoices(self, groups, currency):
        """Return the overdue invoices of ``currency`` that *Pay all overdue* pays."""
        if not currency:
            return request.env["account.move"]
        invoices = self._get_followup_invoices_to_pay(groups, currency)
        return self._get_followup_overdue_invoices(groups, invoices)

    def _prepare_followup_payment_form_values(self, customer_sudo, company, invoices, access_token):
        """Return the values of Odoo's payment form (``payment.form``) for the invoices, as
        ``account_payment`` prepares them for one invoice."""
        currency = invoices.currency_id
        amount = currency.round(sum(invoices.mapped("amount_residual")))
        logged_in = not request.env.user._is_public()
        partner_sudo = request.env.user.partner_id if logged_in else customer_sudo
        # sudo: to read the providers, methods and tokens, also for a visitor of the link
        providers_sudo = request.env["payment.provider"].sudo()._get_compatible_providers(
            company.id, partner_sudo.id, amount, currency_id=currency.id
        )
        # sudo: the payment methods of the providers, for a visitor of the link too
        payment_methods_sudo = request.env["payment.method"].sudo()._get_compatible_payment_methods(
            providers_sudo.ids, partner_sudo.id, currency_id=currency.id
        )
        # sudo: the partner's tokens, for a visitor of the link too
        tokens_sudo = request.env["payment.token"].sudo()._get_available_tokens(providers_sudo.ids, partner_sudo.id)
        page_url = self._get_followup_page_url(customer_sudo, company, access_token)
        return {
            "pay_invoices": invoices,
            "company_mismatch": not PaymentPortal._can_partner_pay_in_company(partner_sudo, company),
            "expected_company": company,
            "show_tokenize_input_mapping": PaymentPortal._compute_show_tokenize_input_mapping(providers_sudo),
            "amount": amount,
            "currency": currency,
            "partner_id": partner_sudo.id,
            "providers_sudo": providers_sudo,
            "payment_methods_sudo": payment_methods_sudo,
            "tokens_sudo": tokens_sudo,
            "transaction_route": f"/my/followup/{customer_sudo.id}/transaction/{company.id}/{currency.id}",
            "landing_route": page_url(),
            "access_token": access_token,
        }
