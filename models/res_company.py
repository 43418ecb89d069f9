from odoo import _, api, models


class ResCompany(models.Model):
    _inherit = "res.company"

    @api.model_create_multi
    def create(self, vals_list):
        """Extends `base` to give every new company the default follow-up levels."""
        companies = super().create(vals_list)
        companies._followup_create_default_levels()
        return companies

    def _followup_default_levels_values(self):
        """Return the values of the default follow-up ladder of the company.

        Override to change the ladder new companies start with.
        """
        self.ensure_one()
        env_ref = self.env.ref
        phone_call = env_ref("mail.mail_activity_data_call", raise_if_not_found=False)
        return [
            {
                "name": _("First reminder"),
                "delay": 15,
                "send_email": True,
                "mail_template_id": env_ref("account_payment_followup.email_template_followup_1").id,
                "join_invoices": False,
                "auto_execute": True,
            },
            {
                "name": _("Second reminder"),
                "delay": 30,
                "send_email": True,
                "mail_template_id": env_ref("account_payment_followup.email_template_followup_2").id,
                "send_sms": True,
                "sms_template_id": env_ref("account_payment_followup.sms_template_followup").id,
                "join_invoices": True,
                "auto_execute": True,
            },
            {
                "name": _("Formal notice"),
                "delay": 60,
                "send_email": True,
                "mail_template_id": env_ref("account_payment_followup.email_template_followup_3").id,
                "send_letter": True,
                "join_invoices": True,
                "auto_execute": False,
                "create_activity": bool(phone_call),
                "activity_type_id": phone_call.id if phone_call else False,
                "activity_summary": _("Call the customer about the overdue invoices"),
                "activity_default_responsible_type": "followup",
            },
        ]

    def _followup_create_default_levels(self):
        """Create the default follow-up levels of companies that have none yet."""
        # sudo: levels are created for companies the current user may not be in
        Level = self.env["account.followup.level"].sudo().with_context(active_test=False, lang="en_US")
        langs = [code for code, __ in self.env["res.lang"].get_installed() if code != "en_US"]
        for company in self:
            if Level.search_count([("company_id", "=", company.id)], limit=1):
                continue
            values = company.with_context(lang="en_US")._followup_default_levels_values()
            levels = Level.create([dict(vals, company_id=company.id) for vals in values])
            # The names are translated with the addon's own terms in every installed language.
            for lang in langs:
                translated = company.with_context(lang=lang)._followup_default_levels_values()
                for level, vals in zip(levels, translated):
                    level.update_field_translations("name", {lang: vals["name"]})
