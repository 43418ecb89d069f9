import threading
from collections import Counter, defaultdict
from datetime import timedelta
from unittest.mock import MagicMock, patch

from odoo import SUPERUSER_ID, Command, api, fields, sql_db
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from odoo.addons.base.models.ir_mail_server import IrMailServer

# How long a worker waits for the other one, a thread for its end: a deadlock fails the
# test instead of hanging it.
TIMEOUT = 120
CUSTOMERS = 12
BATCH_SIZE = 2


@tagged("post_install", "-at_install")
class TestFollowupCronWorkers(TransactionCase):
    """Two cron workers, each a thread with its own PostgreSQL connection and committing its
    batches, share the run of a day on data committed for the test.

    The test's own transaction sees none of it: everything is made, checked and removed
    through separate connections, in a company of its own.
    """

    def setUp(self):
        super().setUp()
        self.dbname = self.env.cr.dbname
        with self._cursor() as cr:
            # the workers leave a record of the run of every company: removed with the rest
            cr.execute("SELECT COALESCE(MAX(id), 0) FROM account_followup_run")
            self.last_run_id = cr.fetchone()[0]
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env["res.company"].create({
                "name": "Two Workers Company", "email": "accounting@two-workers.example.com",
            })
            self.addCleanup(self._remove_company, company.id)
            receivable = env["account.account"].create({
                "name": "Receivable", "code": "TW121", "account_type": "asset_receivable",
                "reconcile": True, "company_id": company.id,
            })
            income = env["account.account"].create({
                "name": "Sales", "code": "TW700", "account_type": "income", "company_id": company.id,
            })
            env["account.journal"].create({
                "name": "Customer Invoices", "code": "TWINV", "type": "sale",
                "default_account_id": income.id, "company_id": company.id,
            })
            env["ir.property"]._set_default("property_account_receivable_id", "res.partner", receivable, company)
            levels = env["account.followup.level"].search([("company_id", "=", company.id)], order="delay")
            levels.join_invoices = False  # the cron never prints: no invoice PDF for the emails either
            customers = env["res.partner"].create([
                {"name": f"Worker Customer {index:02d}", "email": f"customer{index:02d}@two-workers.example.com",
                 "company_id": company.id}
                for index in range(CUSTOMERS)
            ])
            today = fields.Date.context_today(env.user)
            due = today - timedelta(days=20)
            moves = env["account.move"].with_company(company).create([{
                "move_type": "out_invoice",
                "partner_id": customer.id,
                "invoice_date": due,
                "date": due,
                "invoice_date_due": due,
                "invoice_payment_term_id": False,
                "invoice_line_ids": [Command.create({
                    "name": "Consulting", "quantity": 1.0, "price_unit": 100.0, "tax_ids": [Command.clear()],
                })],
            } for customer in customers])
            moves.action_post()
            cr.commit()  # pylint: disable=invalid-commit
            self.company_id, self.customer_ids = company.id, customers.ids
            self.level_ids = levels.ids
            self.assertEqual(levels.mapped("delay"), [15, 30, 60])

    def _cursor(self):
        """A cursor of its own connection: its own transaction, which commits for real
        (``registry.cursor()`` gives the test's transaction in test mode)."""
        return sql_db.db_connect(self.dbname).cursor()

    def _remove_company(self, company_id):
        """Remove everything the test committed, whatever the workers did."""
        with self._cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env["res.company"].browse(company_id)
            partners = env["res.partner"].with_context(active_test=False).search([("company_id", "=", company_id)])
            moves = env["account.move"].search([("company_id", "=", company_id)])
            env["mail.message"].search([
                "|", "&", ("model", "=", "res.partner"), ("res_id", "in", partners.ids),
                "&", ("model", "=", "account.move"), ("res_id", "in", moves.ids),
            ]).unlink()
            env["account.followup.reminder"].search([("company_id", "=", company_id)]).unlink()
            env["account.followup.run"].search(
                ["|", ("company_id", "=", company_id), ("id", ">", self.last_run_id)]
            ).unlink()
            moves.button_draft()
            moves.with_context(force_delete=True).unlink()
            env["account.journal"].search([("company_id", "=", company_id)]).unlink()
            env["ir.property"].search([("company_id", "=", company_id)]).unlink()
            env["account.account"].search([("company_id", "=", company_id)]).unlink()
            env["account.followup.level"].with_context(active_test=False).search(
                [("company_id", "=", company_id)]
            ).unlink()
            company_partner = company.partner_id
            partners.unlink()
            company.followup_default_plan_id = False  # its default plan is deleted with it
            env["account.followup.plan"].with_context(active_test=False).search(
                [("company_id", "=", company_id)]
            ).unlink()
            company.unlink()
            company_partner.unlink()
            cr.commit()  # pylint: disable=invalid-commit

    def _run_workers(self):
        """Run the cron in two worker threads; worker B starts while worker A holds the
        lock of its first batch, and A goes on only once B holds a batch of its own.

        :return: ``({worker: [ids of the customers it sent]}, {worker: [the customers
            each of its locks returned]})``
        """
        Send = type(self.env["account.followup.send"])
        Partner = type(self.env["res.partner"])
        lock_followup_partners = Send._lock_followup_partners
        process_followups = Send._process_followups
        cron_partner_ids = Partner._get_followup_cron_partner_ids
        a_holds_batch, b_holds_batch = threading.Event(), threading.Event()
        sent, locks, errors = defaultdict(list), defaultdict(list), {}
        company_id = self.company_id

        def get_cron_partner_ids(partners):
            # the run of the test's company only: the data of other tests is not touched
            return cron_partner_ids(partners) if partners.env.company.id == company_id else []

        def lock(send, partner_ids):
            locked = lock_followup_partners(send, partner_ids)
            name = threading.current_thread().name
            locks[name].append(locked)
            if name == "A" and len(locks[name]) == 1:
                a_holds_batch.set()
                if not b_holds_batch.wait(TIMEOUT):
                    raise TimeoutError("worker B never locked a batch")
            elif name == "B" and locked:
                b_holds_batch.set()
            return locked

        def process(send, partners, wizard=None, options=None):
            results = process_followups(send, partners, wizard=wizard, options=options)
            sent[threading.current_thread().name].extend(results["sent"].ids)
            return results

        def work():
            try:
                with self._cursor() as cr:
                    # a lock never released fails the worker instead of hanging it
                    cr.execute("SET lock_timeout = '60s'")
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    env["account.followup.send"]._cron_process_followups(batch_size=BATCH_SIZE)
                    cr.commit()  # pylint: disable=invalid-commit
            except Exception as error:  # noqa: BLE001 reported by the test's thread
                errors[threading.current_thread().name] = error
                a_holds_batch.set()
                b_holds_batch.set()

        worker_a = threading.Thread(target=work, name="A")
        worker_b = threading.Thread(target=work, name="B")
        workers = (worker_a, worker_b)
        with patch.object(Send, "_can_commit", lambda send: threading.current_thread() in workers), \
                patch.object(Send, "_lock_followup_partners", lock), \
                patch.object(Send, "_process_followups", process), \
                patch.object(Partner, "_get_followup_cron_partner_ids", get_cron_partner_ids), \
                patch.object(IrMailServer, "connect", MagicMock()), \
                patch.object(IrMailServer, "send_email", MagicMock(return_value="<mocked@two-workers>")), \
                mute_logger("odoo.sql_db"):
            # the serialization failures a worker meets (rolled back and retried by the
            # cron) are logged by Odoo as errors of the query: expected here
            worker_a.start()
            self.assertTrue(a_holds_batch.wait(TIMEOUT), "worker A never locked its first batch")
            worker_b.start()
            for worker in workers:
                worker.join(TIMEOUT)
            self.assertFalse([worker.name for worker in workers if worker.is_alive()], "a worker hangs")
        self.assertEqual(errors, {})
        return sent, locks

    def test_two_workers_share_the_run(self):
        """Each customer gets exactly one reminder, from one of the two workers, and both
        workers send some: B skips the batch A holds and takes the next one; a batch a
        worker locks after the other one sent it is decided again and sends nothing."""
        sent, locks = self._run_workers()
        first, second = self.customer_ids[:BATCH_SIZE], self.customer_ids[BATCH_SIZE:2 * BATCH_SIZE]
        self.assertEqual(locks["A"][0], first)
        # B's first batch is the one A holds: skipped, not waited for
        self.assertEqual(locks["B"][:2], [[], second])
        self.assertEqual(sorted(sent["A"][:BATCH_SIZE]), first)
        self.assertEqual(sorted(sent["B"][:BATCH_SIZE]), second)
        # no customer sent by both workers, nor twice by one, none missed
        self.assertEqual(sorted(sent["A"] + sent["B"]), self.customer_ids)

        with self._cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            customers = env["res.partner"].with_company(self.company_id).browse(self.customer_ids)
            level_1, level_2 = env["account.followup.level"].browse(self.level_ids[:2])
            reminders = env["account.followup.reminder"].search([("partner_id", "in", self.customer_ids)])
            self.assertEqual(Counter(reminders.mapped("partner_id").ids), Counter(self.customer_ids))
            self.assertEqual(reminders.mapped("level_id"), level_1)
            emails = env["mail.message"].search([
                ("model", "=", "res.partner"), ("res_id", "in", self.customer_ids), ("message_type", "=", "comment"),
            ])
            self.assertEqual(sorted(emails.mapped("res_id")), self.customer_ids)
            lines = env["account.move.line"].search([
                ("partner_id", "in", self.customer_ids), ("account_id.account_type", "=", "asset_receivable"),
            ])
            self.assertEqual(len(lines), CUSTOMERS)
            # stepped once: to the first level, the second one is next
            self.assertEqual(lines.mapped("followup_level_id"), level_1)
            self.assertEqual(customers.mapped("followup_level_id"), level_2)
            self.assertEqual(
                set(customers.mapped("followup_next_action_date")),
                {fields.Date.context_today(env.user) + timedelta(days=level_2.delay - level_1.delay)},
            )
