from datetime import timedelta
from unittest.mock import patch

import psycopg2
from freezegun import freeze_time

from odoo import SUPERUSER_ID, Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import SQL, format_amount, mute_logger

from ..models.followup_rules import STATUS_IN_NEED as IN_NEED
from ..models.followup_rules import STATUS_NO_ACTION as NO_ACTION
from ..models.followup_rules import STATUS_OVERDUE as OVERDUE
from .common import FollowupSendCommon, FollowupTestCommon


class FollowupPlansCommon(FollowupTestCommon):
    """A second plan, "Export", beside the company's default plan: 10 days (automatic), then
    15 days (the delay of the default plan's first reminder) and 45 days."""

    @classmethod
    def setUpClass(cls, chart_template_ref=None):
        super().setUpClass(chart_template_ref=chart_template_ref)
        cls.default_plan = cls.company.followup_default_plan_id
        cls.export = cls.env["account.followup.plan"].create({"name": "Export", "company_id": cls.company.id})
        Level = cls.env["account.followup.level"]
        cls.export_10, cls.export_15, cls.export_45 = Level.create([
            {"name": "Export: friendly", "delay": 10, "plan_id": cls.export.id, "auto_execute": True,
             "mail_template_id": cls.level_1.mail_template_id.id, "join_invoices": False},
            {"name": "Export: second", "delay": 15, "plan_id": cls.export.id, "auto_execute": True,
             "mail_template_id": cls.level_1.mail_template_id.id, "join_invoices": False},
            {"name": "Export: last", "delay": 45, "plan_id": cls.export.id,
             "mail_template_id": cls.level_1.mail_template_id.id, "join_invoices": False},
        ])
        cls.exporter = cls.env["res.partner"].create({
            "name": "Export Customer",
            "email": "export.customer@example.com",
            "followup_plan_id": cls.export.id,
            "lang": "en_US",
        })


@tagged("post_install", "-at_install")
class TestFollowupPlans(FollowupPlansCommon):
    """Several follow-up plans in one company: each customer follows its own."""

    def test_default_plan_at_install(self):
        """Every company has a default plan, holding the default ladder the addon installed."""
        self.assertEqual(self.default_plan.name, "Default plan")
        self.assertEqual(self.default_plan.company_id, self.company)
        self.assertEqual(self.default_plan.level_ids, self.level_1 | self.level_2 | self.level_3)
        self.assertEqual(self.default_plan.level_ids.mapped("delay"), [15, 30, 60])
        self.assertEqual(self.default_plan.promise_grace_days, 3)
        self.assertTrue(self.default_plan.is_default)
        self.assertFalse(self.export.is_default)

    def test_default_plan_of_a_new_company(self):
        """A company created later gets its default plan with the default ladder."""
        company = self.env["res.company"].create({"name": "Newco"})
        plan = company.followup_default_plan_id
        self.assertEqual(plan.name, "Default plan")
        self.assertEqual(plan.company_id, company)
        self.assertEqual(plan.level_ids.mapped("delay"), [15, 30, 60])
        self.assertEqual(plan.level_ids.company_id, company)
        self.assertEqual(
            plan.level_ids.mapped("name"), ["First reminder", "Second reminder", "Formal notice"]
        )

    def test_upgrade_moves_levels_into_the_default_plan(self):
        """A database from before the plans: the levels of each company move, untouched, into a
        new default plan of their company (the upgrade's ``_init_column`` and post-migration)."""
        company = self.env["res.company"].create({"name": "Oldco"})
        levels = company.followup_default_plan_id.level_ids
        before = levels.read(["name", "delay", "active", "auto_execute", "mail_template_id", "letter_text"])
        # as before the plans: no plan table rows for the company, no plan on the levels
        self.env.flush_all()
        self.env.cr.execute(SQL("ALTER TABLE account_followup_level ALTER COLUMN plan_id DROP NOT NULL"))
        self.env.cr.execute(SQL("UPDATE res_company SET followup_default_plan_id = NULL WHERE id = %s", company.id))
        self.env.cr.execute(SQL("UPDATE account_followup_level SET plan_id = NULL WHERE company_id = %s", company.id))
        self.env.cr.execute(SQL("DELETE FROM account_followup_plan WHERE company_id = %s", company.id))
        self.env.invalidate_all()
        self.env["account.followup.level"]._init_column("plan_id")
        company._followup_ensure_default_plan()
        self.env.invalidate_all()
        plan = company.followup_default_plan_id
        self.assertEqual(plan.name, "Default plan")
        self.assertEqual(plan.company_id, company)
        self.assertEqual(plan.level_ids, levels)
        self.assertEqual(levels.read(["name", "delay", "active", "auto_execute", "mail_template_id", "letter_text"]),
                         before)
        self.assertEqual(self.env["account.followup.plan"].search_count([("company_id", "=", company.id)]), 1)
        # the other companies' plans are left as they were
        self.assertEqual(self.company.followup_default_plan_id, self.default_plan)
        self.assertEqual(self.export.level_ids, self.export_10 | self.export_15 | self.export_45)

    def test_level_without_plan_joins_the_default_plan(self):
        """A level created without a plan joins its company's default plan."""
        level = self.env["account.followup.level"].create({"name": "Early", "delay": 5})
        self.assertEqual(level.plan_id, self.default_plan)
        other = self.company_data_2["company"]
        level = self.env["account.followup.level"].create({"name": "Early", "delay": 5, "company_id": other.id})
        self.assertEqual(level.plan_id, other.followup_default_plan_id)

    def test_same_delay_in_two_plans(self):
        """The delay is unique per plan: 15 days in both plans of a company is fine, twice in one
        plan is refused (the check names the levels; the database refuses concurrent writes)."""
        self.assertEqual((self.level_1.delay, self.export_15.delay), (15, 15))
        with self.assertRaisesRegex(ValidationError, '"Export: again" and "Export: second" of Export both remind '
                                    "15 days"):
            self.env["account.followup.level"].create({"name": "Export: again", "delay": 15, "plan_id": self.export.id})
        with self.assertRaisesRegex(ValidationError, "both remind 45 days"):
            self.export_10.delay = 45
        with self.assertRaisesRegex(ValidationError, f"of {self.company.name} both remind 30 days"):
            self.env["account.followup.level"].create({"name": "Again", "delay": 30})

    def test_customers_on_two_plans(self):
        """Each customer follows its plan: 12 days late is overdue in the default plan and a
        first export reminder in the Export plan; 20 days late reaches the first reminder of the
        default plan and the second step of the Export plan (its lines were never reminded: the
        first step)."""
        self.create_invoice(amount=100.0, due_days_ago=12)
        self.create_invoice(partner=self.exporter, amount=300.0, due_days_ago=12)
        self.assertFollowup(self.customer, OVERDUE, self.level_1, 100.0, 100.0)
        self.assertFollowup(self.exporter, IN_NEED, self.export_10, 300.0, 300.0)
        with freeze_time(self.today + timedelta(days=8)):
            self.assertFollowup(self.customer, IN_NEED, self.level_1, 100.0, 100.0)
            self.assertFollowup(self.exporter, IN_NEED, self.export_10, 300.0, 300.0)
        Partner = self.env["res.partner"]
        customers = [("id", "in", (self.customer | self.exporter).ids)]
        self.assertEqual(Partner.search(customers + [("followup_status", "=", IN_NEED)]), self.exporter)
        self.assertEqual(Partner.search(customers + [("followup_status", "=", OVERDUE)]), self.customer)
        self.assertEqual(Partner.search(customers + [("followup_level_id", "=", self.export_10.id)]), self.exporter)
        self.assertEqual(Partner.search(customers + [("followup_level_id", "=", self.level_1.id)]), self.customer)

    def test_changing_plan_keeps_the_levels_sent(self):
        """A customer reminded with the first reminder (15 days) of the default plan moves to the
        Export plan: its invoice steps on from the export level with the next higher delay (45
        days), not from the export levels of 10 or 15 days."""
        invoice = self.create_invoice(amount=500.0, due_days_ago=40)
        self.receivable_lines(invoice).write({"followup_level_id": self.level_1.id, "followup_date": self.days_ago(25)})
        self.assertFollowup(self.customer, IN_NEED, self.level_2, 500.0, 500.0)
        self.customer.followup_plan_id = self.export
        self.assertFollowup(self.customer, OVERDUE, self.export_45, 500.0, 500.0)
        self.assertEqual(self.receivable_lines(invoice).followup_level_id, self.level_1)
        with freeze_time(self.today + timedelta(days=5)):
            self.assertFollowup(self.customer, IN_NEED, self.export_45, 500.0, 500.0)
        # back to the default plan (empty): the second reminder again
        self.customer.followup_plan_id = False
        self.assertFollowup(self.customer, IN_NEED, self.level_2, 500.0, 500.0)

    def test_changing_plan_is_noted_on_the_customer(self):
        """A change of plan leaves one note on the customer naming both plans; writing the
        same plan again, or another field, leaves none."""
        def plan_notes():
            return self.customer.message_ids.filtered(lambda m: "Follow-up plan changed" in (m.body or ""))

        self.customer.followup_plan_id = self.export
        self.assertEqual(len(plan_notes()), 1)
        self.assertIn(f"from {self.default_plan.name} to Export in {self.company.name}", plan_notes().body)
        self.customer.write({"followup_plan_id": self.export.id, "comment": "Ships abroad"})
        self.customer.followup_plan_id = False
        self.assertEqual(len(plan_notes()), 2)
        self.assertIn(f"from Export to {self.default_plan.name}", plan_notes()[0].body)

    def test_level_by_hand_in_the_customer_plan(self):
        """The level chosen by hand must be one of the customer's plan."""
        self.create_invoice(partner=self.exporter, amount=100.0, due_days_ago=3)
        with self.assertRaisesRegex(UserError, 'belongs to the plan Default plan'):
            self.exporter.followup_level_id = self.level_2
        self.exporter.followup_level_id = self.export_45
        self.assertFollowup(self.exporter, OVERDUE, self.export_45, 100.0, 100.0)

    def test_report_filter_and_group_by_plan(self):
        """The Follow-up Reports filter on the plan a customer follows (no plan of its own: the
        default plan) and group by the customer's own plan."""
        Partner = self.env["res.partner"]
        customers = [("id", "in", (self.customer | self.exporter).ids)]
        self.assertEqual(Partner.search(customers + [("followup_current_plan_id", "=", self.export.id)]),
                         self.exporter)
        self.assertEqual(Partner.search(customers + [("followup_current_plan_id", "=", self.default_plan.id)]),
                         self.customer)
        self.assertEqual(Partner.search(customers + [("followup_current_plan_id", "!=", self.export.id)]),
                         self.customer)
        groups = Partner.read_group(customers, ["followup_plan_id"], ["followup_plan_id"])
        self.assertEqual(
            sorted((group["followup_plan_id"] and group["followup_plan_id"][0], group["followup_plan_id_count"])
                   for group in groups),
            sorted([(False, 1), (self.export.id, 1)]),
        )
        self.assertEqual(self.customer.followup_current_plan_id, self.default_plan)
        self.assertEqual(self.exporter.followup_current_plan_id, self.export)

    def test_default_plan_kept(self):
        """The default plan cannot be archived nor deleted; another plan can be archived."""
        with self.assertRaisesRegex(UserError, "cannot be archived"):
            self.default_plan.active = False
        with self.assertRaisesRegex(UserError, "cannot be deleted"):
            self.default_plan.unlink()
        self.export.active = False
        self.assertFalse(self.export.active)

    def test_plans_of_another_company(self):
        """A user of company B sees neither the plans nor the levels of company A; a customer's
        plan in company A does not apply in company B."""
        company_b = self.company_data_2["company"]
        user_b = self.env["res.users"].create({
            "name": "Bea B",
            "login": "bea.b.followup",
            "groups_id": [Command.set(self.env.ref("account.group_account_manager").ids)],
            "company_id": company_b.id,
            "company_ids": [Command.set(company_b.ids)],
        })
        Plan = self.env["account.followup.plan"].with_user(user_b)
        self.assertEqual(Plan.search([]), company_b.followup_default_plan_id)
        with self.assertRaises(AccessError):
            Plan.browse(self.export.id).read(["name"])
        self.create_invoice(partner=self.exporter, amount=80.0, due_days_ago=20, company=company_b)
        exporter_b = self.exporter.with_company(company_b)
        self.assertFalse(exporter_b.followup_plan_id)
        level_b = self.env["account.followup.level"].search([("company_id", "=", company_b.id)], order="delay")[:1]
        self.assertFollowup(exporter_b, IN_NEED, level_b, 80.0, 80.0)


@tagged("post_install", "-at_install")
class TestFollowupPlansSending(FollowupPlansCommon, FollowupSendCommon):
    """The cron, the wizard and the letter follow the customer's plan."""

    def test_cron_sends_the_level_of_the_plan(self):
        """The daily run reminds the export customer at 12 days with the export level, sets its
        next reminder with the export ladder (15 - 10 = 5 days) and leaves the other customer."""
        self.create_invoice(amount=100.0, due_days_ago=12)
        invoice = self.create_invoice(partner=self.exporter, amount=300.0, due_days_ago=12)
        self.exporter.followup_responsible_id = self.responsible
        with self.mock_mail_gateway(), self.mockSMSGateway():
            self.env["res.partner"].with_user(SUPERUSER_ID)._cron_execute_followups()
        self.assertReminded(invoice, self.export_10, self.today + timedelta(days=5), partner=self.exporter)
        self.assertFalse(self.receivable_lines(self.env["account.move"].search(
            [("partner_id", "=", self.customer.id)])).followup_level_id)
        self.assertFollowup(self.exporter, OVERDUE, self.export_15, 300.0, 300.0)
        with freeze_time(self.today + timedelta(days=5)):
            self.assertFollowup(self.exporter, IN_NEED, self.export_15, 300.0, 300.0)

    def test_wizard_offers_the_levels_of_the_plan(self):
        """The wizard starts from the customer's level of its plan and offers only that plan's
        levels; the letter shows that level."""
        self.create_invoice(partner=self.exporter, amount=300.0, due_days_ago=50)
        wizard = self.env["account.followup.send"].create({"partner_ids": [Command.set(self.exporter.ids)]})
        self.assertEqual(wizard.plan_id, self.export)
        self.assertEqual(wizard.level_id, self.export_10)
        self.assertEqual(
            self.env["account.followup.level"].search([("plan_id", "=", wizard.plan_id.id)]),
            self.export_10 | self.export_15 | self.export_45,
        )
        letter = self.env["report.account_payment_followup.report_followup"]._get_followup_letter_values(
            self.exporter
        )
        self.assertEqual(letter["level"], self.export_10)
        wizard.level_id = self.export_15
        wizard.action_send()
        lines = self.receivable_lines(self.env["account.move"].search([("partner_id", "=", self.exporter.id)]))
        self.assertEqual(lines.followup_level_id, self.export_10)
        # sent by hand at the second step: the next step of the plan after it, in 45 - 15 days
        self.exporter.invalidate_recordset()
        self.assertEqual(self.exporter.followup_next_action_date, self.today + timedelta(days=30))


@tagged("post_install", "-at_install")
class TestFollowupMinimumAmount(FollowupTestCommon):
    """A level is reached only when the overdue amount reaching it meets its minimum."""

    def test_minimum_just_under_and_just_over(self):
        """First reminder at a minimum of 10.00: 9.99 late by 20 days stays with overdue invoices,
        and the form says why; 0.01 more and the reminder is due."""
        self.level_1.min_amount = 10.0
        invoice = self.create_invoice(amount=9.99, due_days_ago=20)
        self.assertFollowup(self.customer, OVERDUE, self.level_1, 9.99, 9.99)
        self.assertEqual(
            self.customer.followup_minimum_note,
            f"below the minimum of {format_amount(self.env, 10.0, self.company.currency_id)} for First reminder",
        )
        Partner = self.env["res.partner"]
        self.assertFalse(Partner.search([("id", "=", self.customer.id), ("followup_status", "=", IN_NEED)]))
        self.assertEqual(Partner.search([("id", "=", self.customer.id), ("followup_level_id", "=", self.level_1.id)]),
                         self.customer)
        self.create_invoice(amount=0.01, due_days_ago=16)
        self.assertFollowup(self.customer, IN_NEED, self.level_1, 10.0, 10.0)
        self.assertFalse(self.customer.followup_minimum_note)
        self.assertEqual(Partner.search([("id", "=", self.customer.id), ("followup_status", "=", IN_NEED)]),
                         self.customer)
        self.assertTrue(invoice)

    def test_minimum_counts_only_the_lines_reaching_the_level(self):
        """Invoices not yet late enough for the level do not count towards its minimum, nor do
        excluded ones; a higher level without minimum is sent even when a lower one is below."""
        self.level_1.min_amount = 50.0
        self.create_invoice(amount=30.0, due_days_ago=20)
        self.create_invoice(amount=500.0, due_days_ago=5)
        excluded = self.create_invoice(amount=100.0, due_days_ago=20)
        self.receivable_lines(excluded).blocked = True
        self.assertFollowup(self.customer, OVERDUE, self.level_1, 530.0, 530.0)
        old = self.create_invoice(amount=40.0, due_days_ago=35)
        self.receivable_lines(old).write({"followup_level_id": self.level_1.id, "followup_date": self.days_ago(20)})
        self.assertFollowup(self.customer, IN_NEED, self.level_2, 570.0, 570.0)

    def test_no_minimum_behaves_as_before(self):
        """A minimum of 0 (the default) changes nothing: a credit note may even bring the overdue
        amount of the never-reminded invoices below zero."""
        self.assertEqual(self.level_1.min_amount, 0.0)
        self.create_invoice(amount=100.0, due_days_ago=20)
        self.create_invoice(amount=150.0, due_days_ago=3, move_type="out_refund")
        reminded = self.create_invoice(amount=200.0, due_days_ago=35)
        self.receivable_lines(reminded).write(
            {"followup_level_id": self.level_1.id, "followup_date": self.days_ago(20)}
        )
        self.assertFollowup(self.customer, IN_NEED, self.level_2, 150.0, 150.0)


@tagged("post_install", "-at_install")
class TestFollowupPlansDatabase(FollowupPlansCommon):
    """The database holds the uniqueness of a delay per plan."""

    def test_duplicate_delay_in_a_plan_refused_by_the_database(self):
        """Two levels of one plan created at once with one delay: the database refuses the second."""
        Level = self.env["account.followup.level"]
        with patch.object(type(Level), "_check_delay_free"), mute_logger("odoo.sql_db"), \
                self.assertRaisesRegex(psycopg2.IntegrityError, "account_followup_level_delay_plan_uniq"):
            Level.create({"name": "Concurrent", "delay": 45, "plan_id": self.export.id})


@tagged("post_install", "-at_install")
class TestFollowupHolds(FollowupSendCommon):
    """Exclusions with a reason and an end date."""

    def test_hold_from_the_followup_form(self):
        """Excluding an invoice from the customer's follow-up form asks for the reason and offers
        the end date; the invoice is left out of the status and totals until then."""
        invoice = self.create_invoice(amount=400.0, due_days_ago=20)
        self.create_invoice(amount=100.0, due_days_ago=5)
        line = self.receivable_lines(invoice)
        action = line.action_open_followup_hold()
        self.assertEqual(action["res_model"], "account.followup.hold")
        wizard = self.env["account.followup.hold"].with_context(**action["context"]).create({
            "note": "Disputed: wrong quantity delivered",
            "date_until": self.today + timedelta(days=10),
        })
        wizard.action_hold()
        self.assertEqual(
            (line.blocked, line.followup_hold_note, line.followup_hold_until),
            (True, "Disputed: wrong quantity delivered", self.today + timedelta(days=10)),
        )
        self.assertFollowup(self.customer, OVERDUE, self.level_1, 100.0, 100.0)
        with self.assertRaisesRegex(UserError, "must end after today"):
            self.env["account.followup.hold"].create(
                {"line_ids": [Command.set(line.ids)], "note": "x", "date_until": self.today}
            )

    def test_hold_ending_today(self):
        """A hold ending today counts again today, in SQL as in Python, before any run; the daily
        run then clears the flag, notes it on the invoice and gives the responsible an activity."""
        invoice = self.create_invoice(amount=400.0, due_days_ago=20)
        line = self.receivable_lines(invoice)
        line.write({"blocked": True, "followup_hold_note": "Disputed price", "followup_hold_until": self.today})
        self.assertFollowup(self.customer, IN_NEED, self.level_1, 400.0, 400.0)
        Partner = self.env["res.partner"]
        self.assertEqual(Partner.search([("id", "=", self.customer.id), ("followup_status", "=", IN_NEED)]),
                         self.customer)
        # the day before, it was still excluded
        with freeze_time(self.today - timedelta(days=1)):
            self.assertFollowup(self.customer, NO_ACTION, self.env["account.followup.level"], 0.0, 0.0)
            self.assertFalse(Partner.search([("id", "=", self.customer.id), ("followup_status", "=", IN_NEED)]))
        self.customer.followup_reminder_type = "manual"  # the run ends the hold, sends nothing
        with self.mock_mail_gateway(), self.mockSMSGateway():
            self.env["res.partner"].with_user(SUPERUSER_ID)._cron_execute_followups()
        self.assertEqual((line.blocked, line.followup_hold_until, line.followup_hold_note),
                         (False, False, "Disputed price"))
        activity = invoice.activity_ids
        self.assertEqual(activity.summary, "Exclusion ended: Disputed price")
        self.assertEqual(activity.user_id, self.responsible)
        self.assertIn("Exclusion from follow-ups ended", invoice.message_ids[0].body)
        self.assertIn("Disputed price", invoice.message_ids[0].body)
        self.assertFollowup(self.customer, IN_NEED, self.level_1, 400.0, 400.0)

    def test_holds_ending_together(self):
        """Holds ending the same day are ended in batch: each line its note, one activity per
        invoice for each reason, and a constant number of queries whatever their number."""
        Line = self.env["account.move.line"]

        def hold(count, reason):
            invoices = self.env["account.move"]
            for __ in range(count):
                invoice = self.create_invoice(amount=100.0, due_days_ago=20)
                self.receivable_lines(invoice).write(
                    {"blocked": True, "followup_hold_note": reason, "followup_hold_until": self.today})
                invoices |= invoice
            return invoices

        def queries_to_end(invoices):
            self.env.flush_all()
            before = self.env.cr.sql_log_count
            ended = Line._followup_end_holds(self.company, self.today)
            self.env.flush_all()
            self.assertEqual(ended, self.receivable_lines(invoices))
            return self.env.cr.sql_log_count - before, ended

        queries_to_end(hold(1, "Warm-up"))  # the caches of the first run (templates, users)
        two = hold(2, "Disputed price")
        queries_two, __ = queries_to_end(two)
        four = hold(4, "Wrong address")
        queries_four, ended = queries_to_end(four)
        # at most one query more per line (13 for two, 15 for four on 2026-12-04): the notes and
        # the activities in batch, no email to the assignee per activity (about 40 queries
        # each); the flags are cleared in SQL, not by an ORM write of the posted lines, which
        # re-synchronises their invoices (see `_followup_set_level`)
        self.assertLessEqual(queries_four - queries_two, 2)
        self.assertFalse(
            self.env["mail.mail"].search([("model", "=", "account.move"), ("res_id", "in", (two | four).ids)])
        )
        self.assertEqual(ended.mapped("blocked"), [False] * 4)
        for invoices, reason in ((two, "Disputed price"), (four, "Wrong address")):
            for invoice in invoices:
                self.assertEqual(invoice.activity_ids.summary, f"Exclusion ended: {reason}")
                self.assertEqual(invoice.activity_ids.user_id, self.responsible)
                notes = invoice.message_ids.filtered(lambda m: "Exclusion from follow-ups ended" in m.body)
                self.assertEqual(len(notes), 1)
                self.assertIn(reason, notes.body)
        self.assertFalse(Line._followup_end_holds(self.company, self.today))

    def test_hold_without_end_stays(self):
        """A hold without an end date stays until someone includes the invoice again."""
        invoice = self.create_invoice(amount=400.0, due_days_ago=20)
        line = self.receivable_lines(invoice)
        line.write({"blocked": True, "followup_hold_note": "Lawyer"})
        with self.mock_mail_gateway(), self.mockSMSGateway():
            self.env["res.partner"].with_user(SUPERUSER_ID)._cron_execute_followups()
        self.assertTrue(line.blocked)
        self.assertFollowup(self.customer, NO_ACTION, self.env["account.followup.level"], 0.0, 0.0)
        line.action_followup_release()
        self.assertFalse(line.blocked)
        self.assertFollowup(self.customer, IN_NEED, self.level_1, 400.0, 400.0)
