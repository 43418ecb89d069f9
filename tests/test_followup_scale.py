"""Scale: bulk test data is faithful, query counts do not grow with the data, runners do not overlap.

Times are measured by ``scripts/bench`` (see BENCHMARKS.md), never asserted here.
"""


from datetime import timedelta

from freezegun import freeze_time

from odoo import SUPERUSER_ID, Command, api
from odoo.sql_db import db_connect
from odoo.tests import tagged
from odoo.tools import SQL

from ..models.followup_rules import STATUS_IN_NEED, STATUS_NO_ACTION, STATUS_OVERDUE
from ..wizard.account_followup_send import _CRON_LOCK
from . import followup_bulk
from .common import FollowupTestCommon


@tagged("post_install", "-at_install")
class TestFollowupScaleBulk(FollowupTestCommon):
    """The bulk path of the benchmark (SQL clones) gives what ORM-made invoices give."""

    @classmethod
    def setUpClass(cls, chart_template_ref=None):
        super().setUpClass(chart_template_ref=chart_template_ref)
        cls.companies = {"main": cls.company, "second": cls.company_data_2["company"]}
        cls.foreign = cls.currency_data["currency"]

    def new_customer(self, name):
        return self.env["res.partner"].create({"name": name, "is_company": True})

    def followup_facts(self, partner, company):
        """Return what the follow-up decides for a customer, and its open lines."""
        Partner = self.env["res.partner"].with_company(company)
        decision = Partner._followup_decide([partner.id]).get(partner.id)
        lines = Partner.browse(partner.id)._get_followup_open_lines()
        return decision, sorted(
            (
                line.date_maturity,
                line.amount_residual,
                line.amount_residual_currency,
                line.currency_id.id,
                line.followup_level_id.id,
                line.followup_date,
                line.move_id.move_type,
            )
            for line in lines
        )

    def test_clones_decide_as_orm_invoices(self):
        """Each kind of customer of the benchmark, cloned as is and shifted by 7 days with amounts
        times 3, gets the status, level, totals and open lines of its ORM-made twin, in both companies."""
        # Every ORM invoice first: clones keep numbers out of the journals' sequences.
        customers = {}
        for kind, spec in followup_bulk.SPECS.items():
            sample, same, shifted, twin = (
                self.new_customer(f"{name} {kind}") for name in ("Sample", "Same", "Shifted", "Twin")
            )
            followup_bulk.create_sample(self.env, sample, spec, self.companies, self.foreign, self.today)
            followup_bulk.create_sample(
                self.env, twin, spec, self.companies, self.foreign, self.today, days=7, factor=3
            )
            customers[kind] = (sample, same, shifted, twin)
        copies = []
        for sample, same, shifted, __ in customers.values():
            copies += [(sample.id, same.id, 0, 1), (sample.id, shifted.id, 7, 3)]
        inserted = followup_bulk.clone_customers(self.env, copies)
        samples = [sample.id for sample, *__ in customers.values()]
        self.assertEqual(
            inserted["account_move"],
            2 * self.env["account.move"].search_count([("partner_id", "in", samples), ("state", "=", "posted")]),
        )
        for kind, (sample, same, shifted, twin) in customers.items():
            for company in self.companies.values():
                with self.subTest(kind=kind, company=company.name):
                    sample_facts = self.followup_facts(sample, company)
                    twin_facts = self.followup_facts(twin, company)
                    self.assertTrue(sample_facts[1] or company != self.company, "the sample has open lines")
                    self.assertEqual(self.followup_facts(same, company), sample_facts)
                    self.assertEqual(self.followup_facts(shifted, company), twin_facts)

    def test_status_search_decides_as_the_rules(self):
        """Searching by status or by level (SQL, for every customer at once) finds exactly the
        customers the rules (Python, customer by customer) put in that status or at that level,
        day after day for 9 months, in both companies: before, at and after each level, repeated
        reminders, next reminder dates, credit notes covering the debt, excluded and archived
        levels."""
        customers = self.env["res.partner"]
        for kind, spec in followup_bulk.SPECS.items():
            customer = self.new_customer(f"Status {kind}")
            followup_bulk.create_sample(self.env, customer, spec, self.companies, self.foreign, self.today)
            customers |= customer
        waiting, covered, repeated = (self.new_customer(name) for name in ("Waiting", "Covered", "Repeated"))
        self.create_invoice(partner=waiting, amount=100.0, due_days_ago=20)
        waiting.followup_next_action_date = self.today + timedelta(days=10)
        self.create_invoice(partner=covered, amount=100.0, due_days_ago=30)
        self.create_invoice(partner=covered, amount=100.0, due_days_ago=5, move_type="out_refund")
        last_level = self.create_invoice(partner=repeated, amount=100.0, due_days_ago=90)
        self.receivable_lines(last_level).write({"followup_level_id": self.level_3.id, "followup_date": False})
        customers |= waiting | covered | repeated
        self.level_2.copy({"delay": 45, "active": False})  # archived: not on the ladder
        seen, seen_levels = self.check_searches_decide_as_the_rules(customers, range(-35, 250, 5))
        self.assertEqual(seen, {STATUS_IN_NEED, STATUS_OVERDUE, STATUS_NO_ACTION}, "every status was met")
        self.assertLessEqual({*(self.level_1 + self.level_2 + self.level_3).ids, False}, seen_levels,
                             "every level of the first company was met")

    def test_status_search_decides_as_the_rules_with_plans_and_minimums(self):
        """The same proof with a second plan (customers on it, some of them reminded in the
        default plan before: they step on in the new one), minimum amounts just under and just
        over what the invoices reaching the levels owe, in both plans."""
        customers = self.env["res.partner"]
        Level = self.env["account.followup.level"]
        export = self.env["account.followup.plan"].create({"name": "Export", "company_id": self.company.id})
        Level.create([
            {"name": "Export 10", "delay": 10, "plan_id": export.id, "min_amount": 150.0},
            {"name": "Export 15", "delay": 15, "plan_id": export.id},
            {"name": "Export 45", "delay": 45, "plan_id": export.id, "min_amount": 700.0},
        ])
        self.level_1.min_amount = 100.0
        self.level_3.min_amount = 1500.0
        for kind, spec in followup_bulk.SPECS.items():
            for plan in (False, export):
                customer = self.new_customer(f"Plans {kind} {plan and plan.name}")
                followup_bulk.create_sample(self.env, customer, spec, self.companies, self.foreign, self.today)
                customer.followup_plan_id = plan
                customers |= customer
        under, over, moved = (self.new_customer(name) for name in ("Under", "Over", "Moved"))
        self.create_invoice(partner=under, amount=99.99, due_days_ago=20)
        self.create_invoice(partner=under, amount=500.0, due_days_ago=3)
        self.create_invoice(partner=over, amount=60.0, due_days_ago=20)
        self.create_invoice(partner=over, amount=40.0, due_days_ago=16)
        reminded = self.create_invoice(partner=moved, amount=800.0, due_days_ago=20)
        self.receivable_lines(reminded).write({"followup_level_id": self.level_1.id, "followup_date": self.days_ago(5)})
        moved.followup_plan_id = export
        customers |= under | over | moved
        seen, seen_levels = self.check_searches_decide_as_the_rules(customers, range(-35, 250, 5))
        self.assertEqual(seen, {STATUS_IN_NEED, STATUS_OVERDUE, STATUS_NO_ACTION}, "every status was met")
        self.assertLessEqual({self.level_1.id, False}, seen_levels, "levels of the default plan were met")
        self.assertGreaterEqual(len(seen_levels & set(export.level_ids.ids)), 2, "levels of the export plan were met")
        decisions = self.env["res.partner"]._followup_decide((under | over).ids)
        self.assertEqual((decisions[under.id].status, decisions[under.id].below_minimum), (STATUS_OVERDUE, True))
        self.assertEqual((decisions[over.id].status, decisions[over.id].below_minimum), (STATUS_IN_NEED, False))

    def check_searches_decide_as_the_rules(self, customers, offsets):
        """Check, day by day, that searching by status and by level finds the customers the rules
        put there, in both companies; return the statuses and levels met."""
        statuses = (STATUS_IN_NEED, STATUS_OVERDUE, STATUS_NO_ACTION)
        levels = {
            company: self.env["account.followup.level"].search([("company_id", "=", company.id)])
            for company in self.companies.values()
        }
        seen = set()
        seen_levels = set()
        for offset in offsets:
            day = self.today + timedelta(days=offset)
            with freeze_time(f"{day} 12:00:00"):
                for company in self.companies.values():
                    Partner = self.env["res.partner"].with_company(company)
                    decisions = Partner._followup_decide(customers.ids)
                    for status in statuses:
                        expected = {
                            pid for pid in customers.ids
                            if (decisions[pid].status if pid in decisions else STATUS_NO_ACTION) == status
                        }
                        found = set(Partner.search([("id", "in", customers.ids), ("followup_status", "=", status)]).ids)
                        self.assertEqual(found, expected, f"{status} on {day} in {company.name}")
                        seen |= {status} if expected else set()
                    for level_id in [*levels[company].ids, False]:
                        expected = {
                            pid for pid in customers.ids
                            if (decisions[pid].level_id if pid in decisions else None) == (level_id or None)
                        }
                        found = set(
                            Partner.search([("id", "in", customers.ids), ("followup_level_id", "=", level_id)]).ids
                        )
                        self.assertEqual(found, expected, f"level {level_id} on {day} in {company.name}")
                        seen_levels |= {level_id} if expected else set()
                        if level_id:  # in need at this level: the cron's candidates, in one aggregation
                            expected = {
                                pid for pid in expected if decisions[pid].status == STATUS_IN_NEED
                            }
                            in_need = Partner._followup_status_sql([STATUS_IN_NEED], level_ids=[level_id])
                            found = set(Partner.search([("id", "in", customers.ids), ("id", "in", in_need)]).ids)
                            self.assertEqual(found, expected, f"in need at {level_id} on {day} in {company.name}")
        return seen, seen_levels

    def test_clones_are_posted_balanced_and_reconciled(self):
        """Clones are posted, balanced entries of the new customer whose partial payments follow them."""
        sample = self.new_customer("Sample")
        followup_bulk.create_sample(
            self.env, sample, followup_bulk.SPECS["late"], self.companies, self.foreign, self.today
        )
        clone = self.new_customer("Clone")
        followup_bulk.clone_customers(self.env, [(sample.id, clone.id, 0, 2)])
        moves = self.env["account.move"].search([("partner_id", "=", clone.id)])
        self.assertEqual(set(moves.mapped("state")), {"posted"})
        self.assertEqual(moves.line_ids.partner_id, clone)
        for move in moves:
            self.assertAlmostEqual(sum(move.line_ids.mapped("balance")), 0.0)
        partials = moves.line_ids.matched_credit_ids
        self.assertTrue(partials)
        self.assertEqual(partials.credit_move_id.partner_id, clone)
        self.assertFalse(moves.line_ids & self.env["account.move"].search([("partner_id", "=", sample.id)]).line_ids)


@tagged("post_install", "-at_install")
class TestFollowupScaleQueries(FollowupTestCommon):
    """Query counts stay the same whatever the number of customers and invoices."""

    @classmethod
    def setUpClass(cls, chart_template_ref=None):
        super().setUpClass(chart_template_ref=chart_template_ref)
        cls.env.user.groups_id += cls.env.ref("account.group_account_manager")
        # one late customer: an invoice at its first reminder, and a second one 40 days late
        cls.create_invoice(amount=100.0, due_days_ago=20)
        cls.create_invoice(amount=200.0, due_days_ago=40)
        cls.others = cls.env["res.partner"].create(
            [{"name": f"Customer {n}", "email": f"c{n}@example.com"} for n in range(30)]
        )

    def add_invoices(self, partner, count):
        """Give a customer ``count`` more late invoices, cloned in bulk from its own."""
        self.env["account.move"].create(
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "invoice_date": self.days_ago(50),
                    "invoice_date_due": self.days_ago(20 + n),
                    "invoice_payment_term_id": False,
                    "invoice_line_ids": [
                        Command.create({"name": "Consulting", "price_unit": 10.0 + n, "tax_ids": [Command.clear()]})
                    ],
                }
                for n in range(count)
            ]
        ).action_post()

    def test_status_search_queries(self):
        """Searching customers by status costs the same queries for 1 late customer as for 31."""
        Partner = self.env["res.partner"]

        def search():
            return Partner.search([("followup_status", "=", STATUS_IN_NEED)]).ids

        search()  # warm the caches of the ladder and the field ids
        alone = self.count_queries(search)
        followup_bulk.clone_customers(self.env, [(self.customer.id, other.id, 0, 1) for other in self.others])
        self.assertEqual(len(search()), 31)
        self.assertEqual(self.count_queries(search), alone)
        with self.assertQueryCount(alone):
            self.env.invalidate_all()
            search()

    def test_status_search_reads_the_lines_once(self):
        """With a second plan and minimum amounts, the status search reads the open lines once,
        grouped by customer only: no aggregation by level (the line groups), whatever the plans."""
        export = self.env["account.followup.plan"].create({"name": "Export", "company_id": self.company.id})
        self.env["account.followup.level"].create([
            {"name": "Export 10", "delay": 10, "plan_id": export.id, "min_amount": 150.0},
            {"name": "Export 45", "delay": 45, "plan_id": export.id},
        ])
        self.level_1.min_amount = 100.0
        self.others[:5].followup_plan_id = export
        query = self.env["res.partner"]._followup_status_sql([STATUS_IN_NEED])
        self.env.cr.execute(SQL("EXPLAIN (VERBOSE, FORMAT JSON) %s", query))
        nodes, scanned, group_keys = [self.env.cr.fetchone()[0][0]["Plan"]], [], []
        while nodes:
            node = nodes.pop()
            nodes.extend(node.get("Plans", ()))
            if node.get("Relation Name") == "account_move_line":
                scanned.append(node["Node Type"])
            if node["Node Type"] == "Aggregate" and node.get("Group Key"):
                group_keys.append(tuple(node["Group Key"]))
        self.assertEqual(len(scanned), 1, "the lines are read once")
        self.assertIn(("line.partner_id",), group_keys, "the lines are grouped by customer")
        self.assertFalse([keys for keys in group_keys if any("followup_level_id" in key for key in keys)],
                         "the lines are not grouped by level")

    def test_followup_form_queries(self):
        """The follow-up form of a customer costs the same queries with 12 open invoices as with 22."""
        form = self.env.ref("account_payment_followup.res_partner_view_form_followup")
        spec = {
            "display_name": {},
            "name": {},
            "followup_status": {},
            "total_due": {},
            "total_overdue": {},
            "followup_level_id": {"fields": {"display_name": {}}},
            "followup_next_action_date": {},
            "followup_responsible_id": {"fields": {"display_name": {}}},
            "followup_reminder_type": {},
            "followup_line_ids": {
                "fields": {
                    "move_id": {"fields": {"display_name": {}}},
                    "date_maturity": {},
                    "amount_residual": {},
                    "followup_level_id": {"fields": {"display_name": {}}},
                    "blocked": {},
                }
            },
        }
        customer = self.customer.with_context(form_view_ref=form.id)
        self.add_invoices(self.customer, 10)
        customer.web_read(spec)
        twelve = self.count_queries(lambda: customer.web_read(spec))
        self.add_invoices(self.customer, 10)
        self.env.invalidate_all()
        record = customer.web_read(spec)[0]
        self.assertEqual(len(record["followup_line_ids"]), 22)
        self.assertLessEqual(self.count_queries(lambda: customer.web_read(spec)), twelve)

    def test_reminder_queries_do_not_grow_with_invoices(self):
        """An email reminder costs the same queries for a customer with 2 late invoices as with 12."""
        Send = self.env["account.followup.send"]
        self.level_1.join_invoices = False
        self.add_invoices(self.others[0], 2)
        self.add_invoices(self.others[1], 12)
        for partner in self.others[:2]:  # warm-up: templates compiled, caches filled
            self.count_queries(lambda partner=partner: Send._process_followups(partner, options={"print": False}))
        self.add_invoices(self.others[2], 2)
        self.add_invoices(self.others[3], 12)
        self.add_invoices(self.others[4], 2)
        options = {"print": False}
        small = self.count_queries(lambda: Send._process_followups(self.others[2], options=options))
        big = self.count_queries(lambda: Send._process_followups(self.others[3], options=options))
        small_after = self.count_queries(lambda: Send._process_followups(self.others[4], options=options))
        self.assertEqual(self.others[2:5].mapped("followup_status"), [STATUS_OVERDUE] * 3)
        self.assertEqual((small, big, small_after), (small, small, small))
        self.assertEqual(small, QUERIES_PER_REMINDER)


@tagged("post_install", "-at_install")
class TestFollowupScaleConcurrency(FollowupTestCommon):
    """Several runners (workers, servers) never remind the same customer."""

    def test_two_runners_never_send_the_same_reminder(self):
        """While one runner holds a customer, a second runner on its own connection skips it and sends
        nothing; once the first is done, the second gets it."""
        # Rows committed before the test (customers of the database) are visible to both connections;
        # nothing is committed here: both transactions are rolled back.
        db = db_connect(self.env.cr.dbname)
        with db.cursor() as cr_1, db.cursor() as cr_2:
            # the test's user and companies are not committed: the runners are the cron's superuser
            runner_1 = api.Environment(cr_1, SUPERUSER_ID, {})["account.followup.send"]
            runner_2 = api.Environment(cr_2, SUPERUSER_ID, {})["account.followup.send"]
            # two customers the test's own transaction does not hold (it wrote on some)
            cr_1.execute("SELECT id FROM res_partner ORDER BY id LIMIT 20")
            partner_ids = runner_1._lock_followup_partners([row[0] for row in cr_1.fetchall()])[:2]
            self.assertEqual(len(partner_ids), 2)
            cr_1.rollback()
            self.assertEqual(runner_1._lock_followup_partners(partner_ids[:1]), partner_ids[:1])
            self.assertEqual(runner_2._lock_followup_partners(partner_ids), partner_ids[1:])
            customer = runner_2.env["res.partner"].browse(partner_ids[:1])
            results = runner_2._process_followups(customer, options={"print": False})
            self.assertEqual(list(results["skipped"]), partner_ids[:1])
            self.assertFalse(results["sent"] | results["failed"])
            cr_1.rollback()
            self.assertEqual(runner_2._lock_followup_partners(partner_ids[:1]), partner_ids[:1])
            cr_2.rollback()


    def test_one_worker_does_the_steps_of_the_day(self):
        """A step of the day one cron worker does for all (the refresh of the reminders, a
        company's policy) is left out by a second worker while the first one does it, and done
        by the next worker once the first one has finished (committed or rolled back)."""
        Send = self.env["account.followup.send"]
        done = []

        def step():
            done.append(self.company.id)
            return "done"

        with db_connect(self.env.cr.dbname).cursor() as other_worker:
            other_worker.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", (_CRON_LOCK, self.company.id))
            self.assertTrue(other_worker.fetchone()[0])
            self.assertIsNone(Send._cron_followup_step(step, exclusive=self.company.id))
            self.assertEqual(done, [])
            # another step, or the same step of another company, is not held
            self.assertEqual(Send._cron_followup_step(step, exclusive=self.company.id + 1), "done")
            other_worker.rollback()
        self.assertEqual(Send._cron_followup_step(step, exclusive=self.company.id), "done")
        self.assertEqual(done, [self.company.id, self.company.id])


# One email reminder: lock, decide (once), render, post, log on the invoices, step the lines up;
# the batch reads (and the first time writes) the tokens of the customers' pages at once (46;
# 45 since the email, a new message, tells Odoo it has no tracking values to search); then its
# reminder history, 3 queries a batch (the record, its invoices, its messages).
QUERIES_PER_REMINDER = 45 + 3
