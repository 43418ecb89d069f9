from odoo import _, api, fields, models, tools
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from . import followup_rules

# The fields of a level that place it on its plan's ladder (and say whether it charges).
LADDER_FIELDS = {"delay", "active", "company_id", "plan_id", "min_amount", "late_charges"}


class AccountFollowupLevel(models.Model):
    _name = "account.followup.level"
    _description = "Follow-up Level"
    _order = "plan_id, delay, id"
    _check_company_auto = True
    # Archived levels too: their delay still places the lines reminded with them.  The
    # constraint holds against two concurrent writes; `_check_delay_free` names the levels.
    _sql_constraints = [
        (
            "delay_plan_uniq",
            "unique (plan_id, delay)",
            "Two follow-up levels of a plan remind the same number of days after the due "
            "date. Each level needs its own number of days.",
        ),
    ]

    name = fields.Char(required=True, translate=True)
    delay = fields.Integer(
        string="Due Days",
        required=True,
        help="Number of days after the due date of the invoice before this reminder "
        "is due. Use a negative number to remind before the due date.",
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    plan_id = fields.Many2one(
        "account.followup.plan",
        string="Follow-up Plan",
        required=True,
        index=True,
        ondelete="restrict",
        check_company=True,
        domain="[('company_id', '=', company_id)]",
        help="The plan whose customers get this reminder. Left empty, the company's default plan.",
    )
    active = fields.Boolean(default=True)
    send_email = fields.Boolean(default=True)
    mail_template_id = fields.Many2one(
        "mail.template",
        string="Email Template",
        domain=[("model", "=", "res.partner")],
        ondelete="set null",
    )
    send_sms = fields.Boolean(string="Send SMS Message")
    sms_template_id = fields.Many2one(
        "sms.template",
        string="SMS Template",
        domain=[("model", "=", "res.partner")],
        ondelete="set null",
    )
    send_letter = fields.Boolean(
        string="Send a Letter",
        help="Send the follow-up letter by post (snailmail).",
    )
    letter_text = fields.Html(
        translate=True,
        help="Text of the follow-up letter, above the table of open items. Placeholders: "
        "{{ object.name }} (the customer), {{ amount_due }} and {{ amount_overdue }} (the "
        "totals of every currency), {{ date }} (today), {{ company.name }}.",
    )
    join_invoices = fields.Boolean(
        string="Attach Invoices",
        default=True,
        help="Attach the PDF of the customer's open invoices to the email.",
    )
    auto_execute = fields.Boolean(
        string="Automatic",
        help="Send this reminder automatically, every day, to the customers whose "
        "reminders are automatic.",
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    min_amount = fields.Monetary(
        string="Minimum Amount",
        help="The level is reached only when the overdue amount of the invoices reaching it adds "
        "up to at least this amount, in the company's currency (0: any amount). Below it, the "
        "customer stays with overdue invoices.",
    )
    fee_amount = fields.Monetary(
        string="Reminder Fee",
        help="Fee charged with each reminder of this level, in the company's currency, when the level "
        "shows or invoices late-payment charges.",
    )
    late_charges = fields.Selection(
        selection=[
            ("none", "None"),
            ("show", "Show in the reminder"),
            ("invoice", "Show and invoice"),
        ],
        string="Late-payment Charges",
        required=True,
        default="none",
        help="Show: the reminder (email, letter, wizard) shows the interest, the flat compensation and "
        "the fee, nothing is booked. Show and invoice: a draft customer invoice of these charges is "
        "also created with the reminder.",
    )
    create_activity = fields.Boolean(string="Schedule Activity")
    activity_type_id = fields.Many2one(
        "mail.activity.type",
        domain="['|', ('res_model', '=', False), ('res_model', '=', 'res.partner')]",
        ondelete="restrict",
    )
    activity_summary = fields.Char(string="Summary")
    activity_note = fields.Text(string="Note")
    activity_default_responsible_type = fields.Selection(
        selection=[
            ("followup", "Follow-up Responsible"),
            ("salesperson", "Salesperson"),
            ("account_manager", "Account Manager"),
        ],
        string="Responsible",
        required=True,
        default="followup",
        help="Who gets the activity: the customer's follow-up responsible, the "
        "salesperson of the invoice, or the salesperson of the customer (account "
        "manager). When that person is not set, the follow-up responsible gets it, "
        "else the account manager, else the salesperson of the invoice, else the user "
        "who sends the reminder.",
    )

    # ------------------------------------------------------------
    # CONSTRAINTS
    # ------------------------------------------------------------

    def _check_delay_free(self, plan, delay, name):
        """Refuse a delay another level of the plan has (archived ones included), naming
        both levels; called before the row is written (`create`, `write`), as the unique
        constraint ``delay_plan_uniq`` refuses it at once, without names."""
        twin = self.with_context(active_test=False).search(
            [("id", "not in", self.ids), ("plan_id", "=", plan.id), ("delay", "=", delay)],
            limit=1,
        )
        if twin:
            raise ValidationError(
                _(
                    'The follow-up levels "%(level)s" and "%(other)s" of %(company)s both '
                    "remind %(days)s days after the due date. Each level needs its own "
                    "number of days.",
                    level=name,
                    other=twin.name,
                    # "of the company", as before the plans, when it is the company's only ladder
                    company=plan.company_id.name if plan.is_default else plan.display_name,
                    days=delay,
                )
            )

    @api.constrains("mail_template_id", "sms_template_id")
    def _check_templates(self):
        for level in self:
            for template in (level.mail_template_id, level.sms_template_id):
                if template and template.model != "res.partner":
                    raise ValidationError(
                        _(
                            'The template "%(template)s" of the follow-up level "%(level)s" '
                            "is made for %(model)s records; follow-up templates must be made for "
                            "contacts (res.partner).",
                            template=template.name,
                            level=level.name,
                            model=template.model,
                        )
                    )

    @api.constrains("create_activity", "activity_type_id")
    def _check_activity_type(self):
        for level in self:
            if level.create_activity and not level.activity_type_id:
                raise ValidationError(
                    _(
                        'The follow-up level "%(level)s" schedules an activity: choose its '
                        "activity type.",
                        level=level.name,
                    )
                )

    # ------------------------------------------------------------
    # CRUD METHODS
    # ------------------------------------------------------------

    @api.model
    def _auto_init(self):
        """Extends `base` to drop the uniqueness of a delay per company, which a plan now holds
        (the constraint of databases from before the plans)."""
        self.env.cr.execute(SQL(
            "ALTER TABLE IF EXISTS account_followup_level DROP CONSTRAINT IF EXISTS %s",
            SQL.identifier("account_followup_level_delay_company_uniq"),
        ))
        return super()._auto_init()

    def _init_column(self, column_name):
        """Extends `base`: the levels of a database from before the plans move into a default
        plan of their company, untouched, before ``plan_id`` becomes required."""
        if column_name != "plan_id":
            return super()._init_column(column_name)
        return self.env["account.followup.plan"]._followup_plans_for_levels_sql()

    @api.model_create_multi
    def create(self, vals_list):
        """Extends `base` to put a level created without a plan in its company's default plan,
        to refuse a delay already taken before the INSERT (where the unique constraint would
        refuse it without naming the levels) and to clear the cached ladders (see
        `_get_plans_data`)."""
        Plan = self.env["account.followup.plan"]
        for vals in vals_list:
            if vals.get("plan_id") and not vals.get("company_id"):
                vals["company_id"] = Plan.browse(vals["plan_id"]).company_id.id
            company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
            if not vals.get("plan_id"):
                vals["plan_id"] = company._followup_ensure_default_plan().id
            if "delay" in vals:
                self.browse()._check_delay_free(Plan.browse(vals["plan_id"]), vals["delay"], vals.get("name"))
        levels = super().create(vals_list)
        self.env.registry.clear_cache()
        return levels

    def copy_data(self, default=None):
        """Extends `base`: a copy for another company goes into that company's default plan."""
        default = dict(default or {})
        if default.get("company_id") and "plan_id" not in default:
            default["plan_id"] = False
        return super().copy_data(default)

    def write(self, vals):
        """Extends `base` to refuse a delay already taken (see `create`) and to clear the cached
        ladders when a level moves on it."""
        if vals.keys() & {"delay", "plan_id"}:
            for level in self:
                plan = self.env["account.followup.plan"].browse(vals.get("plan_id", level.plan_id.id))
                level._check_delay_free(plan, vals.get("delay", level.delay), vals.get("name", level.name))
        result = super().write(vals)
        if vals.keys() & LADDER_FIELDS:
            self.env.registry.clear_cache()
        return result

    def unlink(self):
        """Extends `base` to clear the cached ladders."""
        result = super().unlink()
        self.env.registry.clear_cache()
        return result

    @api.ondelete(at_uninstall=False)
    def _unlink_except_used(self):
        """Keep the history of reminders: a level already sent cannot be deleted."""
        used = self.env["account.move.line"].sudo().search_count(  # count across all users' lines
            [("followup_level_id", "in", self.ids)], limit=1
        )
        if used:
            raise UserError(
                _(
                    "This follow-up level was already sent to customers: archive it "
                    "instead of deleting it, so that their reminder history stays complete."
                )
            )

    # ------------------------------------------------------------
    # BUSINESS METHODS
    # ------------------------------------------------------------

    @api.model
    def _get_ladder(self, company, plan_id=None):
        """Return the active levels of a plan of the company (its default plan when ``plan_id``
        is not given) as the rules see them, sorted."""
        default_plan_id, ladders, __ = self._get_plans_data(company.id)
        return list(ladders.get(plan_id or default_plan_id, ()))

    @api.model
    def _get_ladder_and_delays(self, company):
        """Return the ladder of the company's default plan and ``{level id: delay}`` of all the
        company's levels, archived ones included (they still place the lines reminded with
        them)."""
        default_plan_id, ladders, delays = self._get_plans_data(company.id)
        return list(ladders.get(default_plan_id, ())), dict(delays)

    @api.model
    def _get_plan_ladders(self, company):
        """Return ``(default plan id, {plan id: ladder}, {level id: delay})`` of the company:
        the ladder of each of its plans, archived plans included (their customers still follow
        them), and the delays of all its levels."""
        default_plan_id, ladders, delays = self._get_plans_data(company.id)
        return default_plan_id, {plan_id: list(ladder) for plan_id, ladder in ladders.items()}, dict(delays)

    @api.model
    @tools.ormcache("company_id")
    def _get_charging_level_ids(self, company_id):
        """Return the ids of the company's levels that show or invoice late-payment charges
        (cached like the ladder: a reminder of a level that does not charge costs no query)."""
        # sudo: the levels are configuration every user may apply
        levels = self.sudo().search([("company_id", "=", company_id), ("late_charges", "!=", "none")])
        return tuple(levels.ids)

    @api.model
    @tools.ormcache("company_id")
    def _get_plans_data(self, company_id):
        """Cached `_get_plan_ladders` (read by every decision), keyed by company and holding
        the ladder of each plan, as tuples; any change of a level's delay, active state,
        minimum, plan or company, of a plan's company or of the company's default plan clears
        it (see `LADDER_FIELDS`)."""
        self.env["account.followup.plan"].flush_model(["company_id"])
        self.env["res.company"].flush_model(["followup_default_plan_id"])
        self.env.cr.execute(SQL(
            """
            SELECT company.followup_default_plan_id,
                   ARRAY(SELECT plan.id FROM account_followup_plan plan WHERE plan.company_id = company.id ORDER BY id)
              FROM res_company company
             WHERE company.id = %s
            """,
            company_id,
        ))
        default_plan_id, plan_ids = self.env.cr.fetchone() or (None, [])
        levels = (
            # sudo: the levels are configuration every user may apply
            self.sudo()
            .with_context(active_test=False)
            .search_read(
                [("company_id", "=", company_id)], ["delay", "active", "plan_id", "min_amount"], order="delay, id",
                load=None,
            )
        )
        ladders = {plan_id: [] for plan_id in plan_ids}
        for level in levels:
            if level["active"]:
                ladders.setdefault(level["plan_id"], []).append(
                    followup_rules.Level(level["delay"], level["id"], level["min_amount"])
                )
        return (
            default_plan_id or (plan_ids[0] if plan_ids else None),
            {plan_id: tuple(followup_rules.sort_ladder(ladder)) for plan_id, ladder in ladders.items()},
            tuple((level["id"], level["delay"]) for level in levels),
        )
