from datetime import timedelta

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL


class AccountFollowupPlan(models.Model):
    """A ladder of follow-up levels a company chases some of its customers with.

    Each customer follows one plan of the company: its own (``res.partner.followup_plan_id``),
    else the company's default plan (``res.company.followup_default_plan_id``).
    """

    _name = "account.followup.plan"
    _description = "Follow-up Plan"
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    active = fields.Boolean(default=True)
    level_ids = fields.One2many("account.followup.level", "plan_id")
    promise_grace_days = fields.Integer(
        default=3,
        help="Days after the date a customer promised to pay before the promise is broken and the "
        "chase resumes.",
    )
    is_default = fields.Boolean(
        string="Default Plan",
        compute="_compute_is_default",
        help="The plan of the company's customers who have none of their own.",
    )

    # ------------------------------------------------------------
    # COMPUTE METHODS
    # ------------------------------------------------------------

    @api.depends("company_id.followup_default_plan_id")
    def _compute_is_default(self):
        for plan in self:
            plan.is_default = plan.company_id.followup_default_plan_id == plan

    # ------------------------------------------------------------
    # CRUD METHODS
    # ------------------------------------------------------------

    def write(self, vals):
        """Extends `base` to refuse moving or archiving a company's default plan, and to clear
        the cached ladders (see ``account.followup.level._get_plans_data``)."""
        if ("company_id" in vals or vals.get("active") is False) and any(plan.is_default for plan in self):
            raise UserError(_("The default follow-up plan of a company cannot be archived nor moved to "
                              "another company: choose another default plan first."))
        result = super().write(vals)
        if vals.keys() & {"company_id", "active"}:
            self.env.registry.clear_cache()
        return result

    @api.ondelete(at_uninstall=False)
    def _unlink_except_default(self):
        if any(plan.is_default for plan in self):
            raise UserError(_("The default follow-up plan of a company cannot be deleted."))

    def unlink(self):
        """Extends `base` to clear the cached ladders."""
        result = super().unlink()
        self.env.registry.clear_cache()
        return result

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_open_levels(self):
        """Open the levels of the plan."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("account_payment_followup.account_followup_level_action")
        action["domain"] = [("plan_id", "=", self.id)]
        action["context"] = {"default_plan_id": self.id, "default_company_id": self.company_id.id}
        return action

    # ------------------------------------------------------------
    # BUSINESS METHODS
    # ------------------------------------------------------------

    @api.model
    def _followup_plans_for_levels_sql(self):
        """Put every level without a plan into a plan of its company, created when it has none.

        The upgrade of a database that had one ladder per company: its levels move into the
        company's default plan untouched (``account.followup.level._init_column``, before the
        column becomes required; ``res.company._followup_ensure_default_plan`` then makes the
        plan the default). In SQL: the models are not ready during the upgrade.
        """
        cr = self.env.cr
        cr.execute(SQL(
            """
            INSERT INTO account_followup_plan (name, company_id, sequence, active, promise_grace_days,
                                               create_uid, create_date, write_uid, write_date)
            SELECT jsonb_build_object('en_US', %(name)s), level.company_id, 10, TRUE, 3,
                   %(uid)s, NOW() AT TIME ZONE 'UTC', %(uid)s, NOW() AT TIME ZONE 'UTC'
              FROM (SELECT DISTINCT company_id FROM account_followup_level WHERE plan_id IS NULL) AS level
             WHERE NOT EXISTS (SELECT 1 FROM account_followup_plan plan WHERE plan.company_id = level.company_id)
            """,
            name="Default plan",
            uid=self.env.uid,
        ))
        cr.execute(SQL(
            """
            UPDATE account_followup_level level
               SET plan_id = (SELECT MIN(plan.id) FROM account_followup_plan plan
                               WHERE plan.company_id = level.company_id)
             WHERE level.plan_id IS NULL
            """
        ))

    @api.model
    def _followup_load_demo_data(self, company_id):
        """Show the collections policy in the demo: a second plan with a customer on it, an
        excluded invoice with its reason and end, an open and a broken promise to pay (after
        ``res.company._followup_load_demo_data``)."""
        company = self.env["res.company"].browse(company_id)
        company = company.with_company(company)
        if not self.env["account.journal"].search_count([("type", "=", "sale"), ("company_id", "=", company.id)],
                                                        limit=1):
            return
        env = company.env
        today = fields.Date.context_today(company)
        plan = self.create({"name": _("Key accounts"), "company_id": company.id, "promise_grace_days": 5})
        env["account.followup.level"].create([
            {"name": _("Courtesy call"), "delay": 30, "plan_id": plan.id, "min_amount": 500.0,
             "send_email": False, "create_activity": True,
             "activity_type_id": env.ref("mail.mail_activity_data_call").id,
             "activity_summary": _("Call the key account about its overdue invoices")},
            {"name": _("Formal notice"), "delay": 75, "plan_id": plan.id, "send_email": True,
             "mail_template_id": env.ref("account_payment_followup.email_template_followup_3").id},
        ])
        Partner = env["res.partner"]
        key_account = Partner.create({"name": "Harbor Trading", "is_company": True,
                                      "email": "accounting@harbor.trading.example.com", "followup_plan_id": plan.id})
        move = env["account.move"].create({
            "move_type": "out_invoice",
            "partner_id": key_account.id,
            "invoice_date": today - timedelta(days=65),
            "invoice_date_due": today - timedelta(days=35),
            "invoice_payment_term_id": False,
            "invoice_line_ids": [Command.create({"name": _("Consulting services"), "quantity": 1, "price_unit": 5400.0,
                                                 "tax_ids": [Command.clear()]})],
        })
        move.action_post()

        def customer(name):
            # The demo customer invoiced in this company, not a namesake of another company.
            return env["account.move"].search(
                [("company_id", "=", company.id), ("partner_id.name", "=", name)], limit=1
            ).partner_id

        disputed = env["account.move.line"].search([
            ("partner_id", "=", customer("Granite & Co").id), ("blocked", "=", True), ("company_id", "=", company.id),
        ], limit=1)
        disputed.write({"followup_hold_note": _("Disputed: 20 chairs delivered instead of 24"),
                        "followup_hold_until": today + timedelta(days=14)})
        Promise = env["account.followup.promise"]
        if customer("Cobalt Logistics"):
            Promise.create({"partner_id": customer("Cobalt Logistics").id, "company_id": company.id,
                            "date": today + timedelta(days=5), "amount": 2300.0,
                            "note": _("Called: transfer ordered for the end of the week")})
        if customer("Foxtrot Studios"):
            broken = Promise.create({"partner_id": customer("Foxtrot Studios").id, "company_id": company.id,
                                     "date_recorded": today - timedelta(days=20), "date": today - timedelta(days=10),
                                     "amount": 1250.0, "note": _("Promised by phone")})
            broken.state = "broken"
