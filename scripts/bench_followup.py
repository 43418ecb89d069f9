# Run by scripts/bench inside `odoo shell` (``env`` is given); see `scripts/bench --help`.
# BENCH_PHASE=data: sample invoices (ORM) + bulk clones (SQL), addon not installed yet.
# BENCH_PHASE=history: a follow-up history on the cloned lines (addon installed).
# BENCH_PHASE=measure: the measures, printed as one table.
# ruff: noqa: F821, E501 (``env`` comes from `odoo shell`; long SQL lines)
import cProfile
import importlib.util
import io
import json
import os
import pstats
import random
import resource
import shlex
import statistics
import subprocess
import tempfile
import time
from unittest.mock import patch

from lxml import etree

from odoo import fields
from odoo.tools import SQL
from odoo.tools.pdf import PdfFileWriter
from odoo.tools.safe_eval import safe_eval

ADDON = os.environ["BENCH_ADDON_DIR"]
spec = importlib.util.spec_from_file_location("followup_bulk", os.path.join(ADDON, "tests", "followup_bulk.py"))
bulk = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bulk)

N = int(os.environ["BENCH_CUSTOMERS"])
M = int(os.environ["BENCH_INVOICES"])
K = int(os.environ["BENCH_CRON"])
K_PDF = int(os.environ.get("BENCH_CRON_PDF", K))
PHASE = os.environ["BENCH_PHASE"]
PROFILE_DIR = os.environ.get("BENCH_PROFILE")
CRON_WORKERS = int(os.environ.get("BENCH_CRON_WORKERS") or 1)
CHUNK = 2000  # copies per bulk statement
env = env(context=dict(env.context, tracking_disable=True))  # noqa: F821
cr = env.cr
today = fields.Date.context_today(env.user)


def log(message):
    print(f"[bench] {message}", flush=True)


def companies():
    main = env.ref("base.main_company")
    second = env["res.company"].search([("name", "=", "Bench Company 2")], limit=1)
    return {"main": main, "second": second}


def bench_customer_ids():
    cr.execute("SELECT id FROM res_partner WHERE ref LIKE 'BENCH-%' ORDER BY id")
    return [row[0] for row in cr.fetchall()]


def make_data():
    t0 = time.time()
    comps = companies()
    if not comps["second"]:
        comps["second"] = env["res.company"].create(
            {"name": "Bench Company 2", "currency_id": comps["main"].currency_id.id}
        )
        env["account.chart.template"].try_loading("generic_coa", comps["second"], install_demo=False)
        env.user.company_ids |= comps["second"]
    foreign = env.ref("base.EUR") if comps["main"].currency_id != env.ref("base.EUR") else env.ref("base.USD")
    foreign.active = True
    for company in comps.values():
        env["res.currency.rate"].create(
            {"name": "2000-01-01", "rate": 2.0, "currency_id": foreign.id, "company_id": company.id}
        )
    samples = {}
    for name, doc_spec in bulk.SPECS.items():
        partner = env["res.partner"].create(
            {"name": f"Bench sample {name}", "is_company": True, "email": f"{name}@sample.example.com"}
        )
        bulk.create_sample(env, partner, doc_spec, comps, foreign, today)
        samples[name] = partner.id
    log(f"ORM samples in {time.time() - t0:.1f}s")
    # customers: one ORM-made template cloned by SQL
    template = env["res.partner"].create(
        {
            "name": "Bench template",
            "is_company": True,
            "email": "template@bench.example.com",
            "lang": "en_US",
            "country_id": env.ref("base.be").id,
            "street": "Rue du Bench 1",
            "city": "Brussels",
            "zip": "1000",
        }
    )
    env.flush_all()
    cr.execute(
        SQL(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'res_partner' AND column_name <> 'id' "
            "AND table_schema = current_schema()"
        )
    )
    overrides = {
        "name": SQL("'Bench Customer ' || lpad(n::text, 6, '0')"),
        "complete_name": SQL("'Bench Customer ' || lpad(n::text, 6, '0')"),
        "display_name": SQL("'Bench Customer ' || lpad(n::text, 6, '0')"),
        "ref": SQL("'BENCH-' || n"),
        "email": SQL("'customer' || n || '@bench.example.com'"),
        "email_normalized": SQL("'customer' || n || '@bench.example.com'"),
        "commercial_partner_id": SQL("ids.id"),
    }
    columns = [row[0] for row in cr.fetchall()]
    for start in range(1, N + 1, CHUNK):
        cr.execute(
            SQL(
                "WITH ids AS (SELECT nextval('res_partner_id_seq') AS id, n FROM generate_series(%s, %s) n) "
                "INSERT INTO res_partner (id, %s) SELECT ids.id, %s FROM ids, res_partner t WHERE t.id = %s",
                start,
                min(start + CHUNK - 1, N),
                SQL(", ").join(SQL.identifier(c) for c in columns),
                SQL(", ").join(overrides.get(c, SQL.identifier("t", c)) for c in columns),
                template.id,
            )
        )
        cr.commit()
    log(f"{N} customers in {time.time() - t0:.1f}s")
    env.invalidate_all()
    customer_ids = bench_customer_ids()
    per_customer = statistics.mean(bulk.count_open_invoices(s) for s in bulk.SPECS.values())
    repeats = max(1, round(M / (N * per_customer)))
    rng = random.Random(17)
    names = list(samples)
    copies = [
        (samples[names[i % len(names)]], pid, rng.randint(-10, 10), 1 + rng.randint(0, 3))
        for i, pid in enumerate(customer_ids)
        for __ in range(repeats)
    ]
    cr.commit()
    log(f"{len(customer_ids)} customers, {repeats} profile copies each, {len(copies)} copies")
    t1 = time.time()
    for start in range(0, len(copies), CHUNK):
        counts = bulk.clone_customers(env, copies[start : start + CHUNK])
        cr.commit()
        if start // CHUNK % 10 == 0:
            log(f"  cloned {start + CHUNK}/{len(copies)} copies ({counts}) {time.time() - t1:.0f}s")
    log(f"bulk clones in {time.time() - t1:.1f}s")


def apply_history():
    """Give the cloned lines a follow-up history: a third never reminded, a third up to
    date with their level, a third one level behind (hence in need of action)."""
    t0 = time.time()
    cr.execute("""
        UPDATE account_move_line line
           SET followup_level_id = src.level_id, followup_date = src.date_maturity + src.delay
          FROM (SELECT open.id, open.date_maturity, lv.id AS level_id, lv.delay
                  FROM account_move_line open
                  JOIN account_account account ON account.id = open.account_id
          CROSS JOIN LATERAL (SELECT l.id, l.delay FROM account_followup_level l
                               WHERE l.company_id = open.company_id AND l.active
                                 AND l.delay <= (%(today)s::date - open.date_maturity) - 5 * (open.partner_id %% 3)
                               ORDER BY l.delay DESC LIMIT 1) lv
                 WHERE account.account_type = 'asset_receivable' AND open.reconciled IS NOT TRUE
                   AND open.parent_state = 'posted' AND open.amount_residual > 0
                   AND open.partner_id %% 3 <> 0 AND open.followup_level_id IS NULL) src
         WHERE line.id = src.id
    """, {"today": today})
    log(f"follow-up history on {cr.rowcount} lines in {time.time() - t0:.1f}s")
    cr.commit()


def apply_policy():
    """The collections policy of issue 13 on the bench's customers, so that every measure
    runs with it: a second plan (its own delays and a minimum amount) for every tenth
    customer, lines on hold (some ending today, counted again at once), open and broken
    promises to pay."""
    t0 = time.time()
    main = companies()["main"]
    default_plan = main.followup_default_plan_id
    plan = env["account.followup.plan"].create({"name": "Bench export plan", "company_id": main.id})
    template = default_plan.level_ids.sorted("delay")[:1]
    for delay, min_amount in ((10, 50.0), (40, 0.0), (75, 0.0)):
        template.copy({"plan_id": plan.id, "delay": delay, "min_amount": min_amount,
                       "name": f"Export reminder +{delay}"})
    customer_ids = bench_customer_ids()
    on_plan = env["res.partner"].browse(customer_ids[::10]).with_company(main)
    on_plan.write({"followup_plan_id": plan.id})
    # holds: every 7th customer's oldest open line, a third of them ending today
    cr.execute(
        SQL(
            """
            WITH oldest AS (
                SELECT DISTINCT ON (line.partner_id) line.id, line.partner_id
                  FROM account_move_line line
                  JOIN account_account account ON account.id = line.account_id
                 WHERE account.account_type = 'asset_receivable' AND line.reconciled IS NOT TRUE
                   AND line.parent_state = 'posted' AND line.amount_residual > 0
                   AND line.company_id = %(company)s AND mod(line.partner_id, 7) = 0
              ORDER BY line.partner_id, line.date_maturity, line.id)
            UPDATE account_move_line line
               SET blocked = TRUE, followup_hold_note = 'Disputed delivery (bench)',
                   followup_hold_until = CASE WHEN mod(oldest.partner_id, 3) = 0 THEN %(today)s::date
                                              ELSE %(today)s::date + 30 END
              FROM oldest WHERE line.id = oldest.id
            """,
            company=main.id,
            today=today,
        )
    )
    held = cr.rowcount
    # promises: every 20th customer an open promise, every 50th a broken one
    Promise = env["account.followup.promise"].with_company(main)
    Promise.create([
        {"partner_id": pid, "company_id": main.id, "date": fields.Date.add(today, days=5), "amount": 100.0}
        for pid in customer_ids[::20]
    ])
    broken = Promise.create([
        {"partner_id": pid, "company_id": main.id, "date": fields.Date.add(today, days=-20), "amount": 100.0}
        for pid in customer_ids[5::50]
    ])
    broken.write({"state": "broken"})
    env.flush_all()
    cr.commit()
    log(
        f"collections policy in {time.time() - t0:.1f}s: {len(on_plan)} customers on a second plan, "
        f"{held} lines on hold, {len(customer_ids[::20])} open and {len(broken)} broken promises"
    )
# Share of the bench customers with a year of reminder history (12 monthly reminders each).
HISTORY_SHARE = 3


def make_reminder_history():
    """Give a third of the bench customers a year of reminders: 12 monthly reminders each
    (account.followup.reminder, in bulk SQL), about one of their invoices, with what was paid
    within 7/30/60 days and the days until paid as the daily refresh stores them.

    Idempotent: nothing is made when the bench customers already have reminders (--reuse)."""
    if "account.followup.reminder" not in env:
        return
    cr.execute("SELECT 1 FROM account_followup_reminder reminder JOIN res_partner partner ON partner.id = reminder.partner_id "
               "WHERE partner.ref LIKE 'BENCH-%' LIMIT 1")
    if cr.fetchone():
        return
    t0 = time.time()
    company = companies()["main"]
    levels = env["account.followup.level"].search([("company_id", "=", company.id)], order="delay, id").ids
    cr.execute(
        SQL(
            """
            WITH customers AS (
                SELECT partner.id AS partner_id,
                       (SELECT line.move_id FROM account_move_line line
                         WHERE line.partner_id = partner.id AND line.company_id = %(company)s
                           AND line.balance > 0 LIMIT 1) AS move_id
                  FROM res_partner partner
                 WHERE partner.ref LIKE %(bench)s AND MOD(partner.id, %(share)s) = 0
            ), rows AS (
                SELECT customers.partner_id, customers.move_id, month,
                       (%(levels)s::int[])[1 + MOD(customers.partner_id + month, cardinality(%(levels)s::int[]))] AS level_id,
                       (100 + MOD(customers.partner_id * 7 + month * 13, 900))::numeric AS amount,
                       MOD(customers.partner_id + month, 5) AS outcome
                  FROM customers, generate_series(1, 12) AS month
                 WHERE customers.move_id IS NOT NULL
            ), inserted AS (
                INSERT INTO account_followup_reminder
                       (partner_id, company_id, level_id, date, automatic, email, sms, letter, printed, activity,
                        amount_overdue, delivery_state, paid_7d, paid_30d, paid_60d, payment_days,
                        create_uid, create_date, write_uid, write_date)
                SELECT partner_id, %(company)s, level_id, %(today)s::date - 30 * month, TRUE, TRUE, FALSE, FALSE, FALSE, FALSE,
                       amount, 'delivered',
                       CASE WHEN outcome = 0 THEN amount ELSE 0 END,
                       CASE WHEN outcome <= 1 THEN amount WHEN outcome = 2 THEN amount / 2 ELSE 0 END,
                       CASE WHEN outcome <= 2 THEN amount WHEN outcome = 3 THEN amount / 2 ELSE 0 END,
                       CASE outcome WHEN 0 THEN 5 WHEN 1 THEN 20 WHEN 2 THEN 45 END,
                       %(uid)s, now(), %(uid)s, now()
                  FROM rows
             RETURNING id, partner_id
            )
            INSERT INTO account_followup_reminder_move_rel (reminder_id, move_id)
            SELECT inserted.id, customers.move_id FROM inserted JOIN customers USING (partner_id)
            """,
            company=company.id,
            bench="BENCH-%",
            share=HISTORY_SHARE,
            levels=levels,
            today=today,
            uid=env.uid,
        )
    )
    log(f"a year of reminder history: {cr.rowcount} reminders in {time.time() - t0:.1f}s")
    cr.execute("ANALYZE account_followup_reminder")
    cr.commit()


def run_analysis_measures(List, domain, list_spec):
    """The Follow-up Reports' first page with and without the ageing columns, the Aged
    Receivables pivot and the Follow-up Analysis pivot over the year of history."""
    rows = []
    ageing = [fname for fname in ("ageing_not_due", "ageing_1_30", "ageing_31_60", "ageing_61_90", "ageing_over_90")
              if fname in List._fields]
    if not ageing:
        return [("Follow-up Reports: ageing columns", None, None, "n/a (no ageing in this version)")]
    without_spec = {fname: value for fname, value in list_spec.items() if fname not in ageing}
    with_spec = {**without_spec, **{fname: {} for fname in ageing}}
    page = {}
    for label, spec_ in (("without", without_spec), ("with", with_spec)):
        page[label] = measure(lambda s=spec_: List.web_search_read(domain, s, offset=0, limit=80, count_limit=10001),
                              repeat=5)
    ratio = page["with"][0] / page["without"][0]
    rows.append(("Follow-up Reports: first page without the ageing columns", page["without"][0], page["without"][1],
                 f"{len(page['without'][2]['records'])} rows"))
    rows.append(("Follow-up Reports: first page with the ageing columns", page["with"][0], page["with"][1],
                 f"{ratio:.2f}x without"))
    # What the pivot asks: the total, then the rows (customers).
    action = env.ref("account_payment_followup.res_partner_action_ageing")
    pivot_domain = safe_eval(action.domain or "[]")
    measures_ = [f"{fname}:sum" for fname in ageing]

    def aged_pivot():
        total = List.read_group(pivot_domain, measures_, [], lazy=False)
        by_customer = List.read_group(pivot_domain, measures_, ["commercial_partner_id"], lazy=False)
        return total, by_customer

    secs, queries, (total, by_customer) = measure(aged_pivot)
    rows.append(("Aged Receivables pivot (read_group: total + by customer)", secs, queries,
                 f"{len(by_customer)} customers, over 90 days {total[0]['ageing_over_90']:.2f}"))
    # The Follow-up Analysis pivot as its view opens: rows level > email, columns by month.
    Reminder = env["account.followup.reminder"].with_context(List.env.context)
    cr.execute("SELECT count(*), MIN(date), MAX(date) FROM account_followup_reminder")
    reminders, first, last = cr.fetchone()
    analysis_measures = ["amount_overdue:sum", "paid_30d:sum", "__count"]

    def analysis_pivot():
        return [
            Reminder.read_group([], analysis_measures, rows_ + cols, lazy=False)
            for rows_ in ([], ["level_id"], ["level_id", "email"])
            for cols in ([], ["date:month"])
        ]

    secs, queries, groups = measure(analysis_pivot)
    rows.append(("Follow-up Analysis pivot (6 read_group, level > email x month)", secs, queries,
                 f"{reminders} reminders from {first} to {last}, {len(groups[-1])} cells"))
    return rows


def measure(fn, repeat=3):
    """Return (best seconds, queries of one run, result)."""
    times = []
    result = None
    queries = 0
    for __ in range(repeat):
        env.invalidate_all()
        env.transaction.clear()
        before = cr.sql_log_count
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
        queries = cr.sql_log_count - before
    return min(times), queries, result


def spec_from_arch(model, view_ref, view_type):
    """Return the web client's specification of a view (fields, many2one display names, x2many subviews)."""
    view = env.ref(view_ref)
    arch = etree.fromstring(env[model].get_view(view.id, view_type)["arch"])
    spec_ = {}
    for node in arch.iter("field"):
        if any(parent.tag == "field" for parent in node.iterancestors()):
            continue
        name = node.get("name")
        field = env[model]._fields[name]
        if field.type == "many2one":
            spec_[name] = {"fields": {"display_name": {}}}
        elif field.type in ("one2many", "many2many"):
            sub = {}
            subview = node.get("context") and "account_move_line_view_tree_followup" in node.get("context")
            if subview:
                sub = spec_from_arch(
                    field.comodel_name, "account_payment_followup.account_move_line_view_tree_followup", "tree"
                )
            spec_[name] = {"fields": sub or {"display_name": {}}, "limit": 40}
        else:
            spec_[name] = {}
    return spec_


def run_measures():
    rows = []
    comps = companies()
    Partner = env["res.partner"].with_company(comps["main"])
    cr.execute("SELECT count(*), pg_size_pretty(pg_total_relation_size('account_move_line')) FROM account_move_line")
    total_lines, aml_size = cr.fetchone()
    cr.execute("""SELECT count(*) FROM account_move_line line JOIN account_account a ON a.id = line.account_id
                   WHERE a.account_type = 'asset_receivable' AND line.reconciled IS NOT TRUE AND line.parent_state = 'posted'""")
    open_lines = cr.fetchone()[0]
    cr.execute(
        "SELECT count(*) FROM account_move WHERE move_type = 'out_invoice' AND state = 'posted' AND payment_state IN ('not_paid', 'partial')"
    )
    open_invoices = cr.fetchone()[0]
    cr.execute("SELECT pg_size_pretty(pg_relation_size('account_move_line_followup_open_idx'))")
    index_size = cr.fetchone()[0] if cr.rowcount else "none"
    log(
        f"{len(bench_customer_ids())} customers, {open_invoices} open invoices, {open_lines} open receivable lines, "
        f"{total_lines} move lines ({aml_size}), follow-up index {index_size}"
    )

    def floor():
        cr.execute(
            SQL(
                """SELECT line.partner_id, SUM(line.amount_residual) FROM account_move_line line
                 JOIN account_account account ON account.id = line.account_id
                WHERE line.company_id = %s AND account.account_type = 'asset_receivable'
                  AND account.non_trade IS NOT TRUE AND line.parent_state = 'posted'
                  AND line.reconciled IS NOT TRUE AND line.blocked IS NOT TRUE
                  AND line.partner_id IS NOT NULL AND line.amount_residual <> 0
             GROUP BY line.partner_id""",
                comps["main"].id,
            )
        )
        return cr.fetchall()

    secs, queries, result = measure(floor)
    floor_secs = secs
    rows.append(
        ("bare floor: SQL aggregate of open receivable lines by customer", secs, queries, f"{len(result)} customers")
    )
    for status in ("in_need_of_action", "with_overdue_invoices"):
        secs, queries, ids = measure(lambda s=status: Partner.search([("followup_status", "=", s)]).ids)
        rows.append(
            (f"search followup_status = {status}", secs, queries, f"{len(ids)} ids, {secs / floor_secs:.1f}x floor")
        )
        secs, queries, count = measure(lambda s=status: Partner.search_count([("followup_status", "=", s)]))
        rows.append((f"search_count followup_status = {status}", secs, queries, f"{count}"))
    # the search by level (a level typed in the Follow-up Reports' search): the first level of the company
    first_level = env["account.followup.level"].search([("company_id", "=", comps["main"].id)], order="delay, id", limit=1)
    if first_level:
        secs, queries, ids = measure(lambda: Partner.search([("followup_level_id", "=", first_level.id)]).ids)
        rows.append(
            (f"search followup_level_id = {first_level.name}", secs, queries, f"{len(ids)} ids, {secs / floor_secs:.1f}x floor")
        )
    list_spec = spec_from_arch("res.partner", "account_payment_followup.res_partner_view_tree_followup", "tree")
    action = env.ref("account_payment_followup.action_view_followup_reports")
    context = dict(env.context, res_partner_search_mode="customer", allowed_company_ids=[comps["main"].id])
    domain = [("followup_status", "in", ("in_need_of_action", "with_overdue_invoices"))]
    List = Partner.with_context(context)
    secs, queries, page = measure(
        lambda: List.web_search_read(domain, list_spec, offset=0, limit=80, count_limit=10001)
    )
    rows.append(
        (
            "Follow-up Reports: first page (web_search_read, 80 rows)",
            secs,
            queries,
            f"{len(page['records'])} rows of {page['length']} (action {action.id})",
        )
    )
    cr.execute(
        """SELECT line.partner_id FROM account_move_line line JOIN account_account a ON a.id = line.account_id
                   WHERE a.account_type = 'asset_receivable' AND line.reconciled IS NOT TRUE AND line.parent_state = 'posted'
                     AND line.company_id = %s AND line.partner_id IN (SELECT id FROM res_partner WHERE ref LIKE 'BENCH-%%')
                GROUP BY line.partner_id ORDER BY count(*) DESC LIMIT 1""",
        [comps["main"].id],
    )
    busiest = cr.fetchone()[0]
    form_spec = spec_from_arch("res.partner", "account_payment_followup.res_partner_view_form_followup", "form")
    secs, queries, form = measure(lambda: List.browse(busiest).web_read(form_spec))
    rows.append(
        (
            "one customer's follow-up form (web_read)",
            secs,
            queries,
            f"{len(form[0]['followup_line_ids'])} open lines, {form[0]['followup_status']}",
        )
    )
    make_reminder_history()
    rows.extend(run_analysis_measures(List, domain, list_spec))
    rows.extend(run_cron(Partner))
    return rows


# Debian's wkhtmltopdf (unpatched Qt) refuses several documents in one run, which Odoo's
# report engine needs to render a batch of invoices; wkhtmltopdf.org's build does not.
WKHTMLTOPDF_BATCHES = "patched qt" in subprocess.run(
    ["wkhtmltopdf", "--version"], capture_output=True, text=True, check=False
).stdout


def blank_pages(count):
    """Return a PDF of ``count`` blank A4 pages: one per invoice, as Odoo splits a batch."""
    writer = PdfFileWriter()
    for __ in range(count):
        writer.addBlankPage(595, 842)
    stream = io.BytesIO()
    writer.write(stream)
    return stream.getvalue()


def _status_kb(key):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def reset_peak_rss():
    """Reset the peak RSS of this process (Linux) and return the current RSS in kB."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        pass
    return _status_kb("VmRSS")


def peak_rss():
    return _status_kb("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_cron(Partner):
    if not hasattr(Partner, "_cron_execute_followups"):
        return [
            ("cron, email only", None, None, "n/a (cron not available)"),
            ("cron, email + invoice PDFs", None, None, "n/a (cron not available)"),
        ]
    level_domain = [("company_id", "=", Partner.env.company.id)]
    if "followup_default_plan_id" in Partner.env.company._fields:  # the default plan's first level
        level_domain.append(("plan_id", "=", Partner.env.company.followup_default_plan_id.id))
    level_1 = env["account.followup.level"].search(level_domain, order="delay, id", limit=1)
    decisions = Partner._followup_decide()
    ready = sorted(pid for pid, d in decisions.items() if d.status == "in_need_of_action" and d.level_id == level_1.id)
    bench_ids = set(bench_customer_ids())
    ready = [pid for pid in ready if pid in bench_ids]
    cls = type(env["res.partner"])
    original = cls._get_followup_cron_partner_ids
    measured = ready[: 2 * K + K_PDF]
    snapshot_followup_state(measured)
    try:
        rows = _run_cron(Partner, level_1, ready, cls, original)
    finally:
        restore_followup_state(measured)
    if CRON_WORKERS > 1 and ready[:K]:
        snapshot_followup_state(measured)
        try:
            rows[1:1] = run_cron_workers(Partner, level_1, ready[:K])
        finally:
            restore_followup_state(measured)
    return rows


def show_late_charges(Partner, level_1, on):
    """Late-payment charges shown in the reminders of the first level (contractual 10 %,
    40.00 per late invoice), or back to none; return the values to restore."""
    company = Partner.env.company
    if "followup_interest_policy" not in company._fields:
        return False
    if on:
        company.write({"followup_interest_policy": "contractual", "followup_interest_rate": 10.0,
                       "followup_flat_compensation": 40.0})
        level_1.late_charges = "show"
    else:
        company.followup_interest_policy = "none"
        level_1.late_charges = "none"
    return True


def snapshot_followup_state(partner_ids):
    """Keep what the cron changes of these customers, to measure again on the same data (--reuse)."""
    field = env["ir.model.fields"]._get("res.partner", "followup_next_action_date")
    cr.execute("DROP TABLE IF EXISTS bench_lines; DROP TABLE IF EXISTS bench_props")
    cr.execute(
        "CREATE TABLE bench_lines AS SELECT id, followup_level_id, followup_date FROM account_move_line WHERE partner_id = ANY(%s)",
        [partner_ids],
    )
    cr.execute(
        "CREATE TABLE bench_props AS SELECT * FROM ir_property WHERE fields_id = %s AND res_id = ANY(%s)",
        [field.id, [f"res.partner,{pid}" for pid in partner_ids]],
    )
    cr.execute("SELECT COALESCE(MAX(id), 0) FROM ir_attachment")
    cr.execute("CREATE TABLE IF NOT EXISTS bench_attachments AS SELECT %s::int AS max_id", [cr.fetchone()[0]])
    cr.commit()


def restore_followup_state(partner_ids):
    cr.rollback()
    field = env["ir.model.fields"]._get("res.partner", "followup_next_action_date")
    cr.execute(
        "UPDATE account_move_line line SET followup_level_id = b.followup_level_id, followup_date = b.followup_date "
        "FROM bench_lines b WHERE line.id = b.id"
    )
    cr.execute(
        "DELETE FROM ir_property WHERE fields_id = %s AND res_id = ANY(%s)",
        [field.id, [f"res.partner,{pid}" for pid in partner_ids]],
    )
    cr.execute("INSERT INTO ir_property SELECT * FROM bench_props")
    # invoice PDFs made by the run: gone, to measure their rendering again
    cr.execute(
        "UPDATE account_move SET message_main_attachment_id = NULL WHERE message_main_attachment_id > (SELECT max_id FROM bench_attachments)"
    )
    # (not deleted: each deletion would scan the moves for the foreign keys to ir_attachment)
    cr.execute(
        "UPDATE ir_attachment SET res_field = NULL, res_model = 'bench.discarded' "
        "WHERE res_model = 'account.move' AND res_field = 'invoice_pdf_report_file' "
        "AND id > (SELECT max_id FROM bench_attachments)"
    )
    cr.execute("DROP TABLE bench_lines; DROP TABLE bench_props; DROP TABLE bench_attachments")
    cr.commit()
    env.invalidate_all()


def start_profiler():
    """Profile the cron measures when --profile gives a folder: pyinstrument's tree when
    Odoo's Python has it, else cProfile (also the source of the top costs per reminder)."""
    if not PROFILE_DIR:
        return None
    try:
        from pyinstrument import Profiler  # noqa: PLC0415 (optional, only for --profile)
    except ImportError:
        profiler = cProfile.Profile()
        profiler.enable()
        return profiler
    profiler = Profiler(interval=0.005)
    profiler.start()
    return profiler


def stop_profiler(profiler, label, reminders=0):
    if profiler is None:
        return
    name = label.replace(",", "").replace(" ", "_")
    if isinstance(profiler, cProfile.Profile):
        profiler.disable()
        path = os.path.join(PROFILE_DIR, name + ".prof")
        profiler.dump_stats(path)
        log(f"profile of '{label}' in {path} (python -m pstats)")
        print_top_costs(pstats.Stats(profiler), label, reminders)
        return
    profiler.stop()
    path = os.path.join(PROFILE_DIR, name + ".txt")
    with open(path, "w", encoding="utf-8") as file:
        file.write(profiler.output_text(unicode=False, color=False, show_all=False))
    log(f"profile of '{label}' in {path}")


# what the issue 17 counts per reminder: (label, file ending, function name)
WATCHED_CALLS = (
    ("html_sanitize", "odoo/tools/mail.py", "html_sanitize"),
    ("QWeb compilations", "base/models/ir_qweb.py", "generate_functions"),
    ("mail.message create", "mail/models/mail_message.py", "create"),
    ("_message_log_batch", "mail/models/mail_thread.py", "_message_log_batch"),
    ("message_post", "mail/models/mail_thread.py", "message_post"),
    ("items table", "report/followup_report.py", "_get_followup_items_table_html"),
    ("SQL queries", "odoo/sql_db.py", "execute"),
)


def print_top_costs(stats, label, reminders, top=12):
    """Print the top costs per reminder of a cProfile run: the functions of most own time,
    and the calls the issue watches (count and cumulated time per reminder)."""
    per = max(reminders, 1)
    rows = sorted(stats.stats.items(), key=lambda item: -item[1][2])  # (file, line, name): (cc, nc, tt, ct, callers)
    log(f"top costs per reminder of '{label}' ({reminders} reminders, cProfile; own time):")
    for (filename, line, name), (__, calls, own, cumulated, __callers) in rows[:top]:
        where = f"{os.path.basename(filename)}:{line}({name})" if line else name
        print(f"    {own / per * 1000:7.2f} ms own {cumulated / per * 1000:8.2f} ms cum {calls / per:8.1f} calls  {where}")
    log("watched calls per reminder:")
    for text, ending, function in WATCHED_CALLS:
        calls = cumulated = 0
        for (filename, __, name), (__cc, nc, __tt, ct, __callers) in stats.stats.items():
            if name == function and filename.endswith(ending):
                calls += nc
                cumulated = max(cumulated, ct)  # nested calls: the outermost cumulated time
        print(f"    {calls / per:7.1f} calls {cumulated / per * 1000:8.2f} ms  {text}")


def run_cron_workers(Partner, level_1, chosen):
    """The email-only cron run by CRON_WORKERS processes at once on ``chosen`` (each its own
    `odoo shell`, committing its batches as the cron does): the total throughput from the
    common start to the last worker's end, and the check of what the customers received."""
    label = f"cron, email only, {CRON_WORKERS} cron workers"
    level_1.join_invoices = False
    cr.execute("SELECT COALESCE(MAX(id), 0) FROM mail_message")
    messages_before = cr.fetchone()[0]
    cr.commit()  # nothing held while the workers run
    work = tempfile.mkdtemp(prefix="apf-bench-workers.")
    ids_path, go_path = os.path.join(work, "ids.json"), os.path.join(work, "go")
    with open(ids_path, "w", encoding="utf-8") as file:
        json.dump(chosen, file)
    worker_env = dict(os.environ, BENCH_PHASE="worker", BENCH_WORKER_IDS=ids_path, BENCH_WORKER_GO=go_path)
    script = os.path.join(ADDON, "scripts", "bench_followup.py")
    procs = []
    for index in range(CRON_WORKERS):
        with open(script, "rb") as stdin, open(os.path.join(work, f"worker-{index}.log"), "wb") as stderr:
            procs.append(subprocess.Popen(
                shlex.split(os.environ["BENCH_WORKER_CMD"]), stdin=stdin, stdout=subprocess.PIPE, stderr=stderr,
                env=worker_env, text=True,
            ))
    for proc in procs:  # each worker has loaded the registry and holds nothing
        while (line := proc.stdout.readline()) and line.strip() != "ready":
            pass
    start = time.time()
    with open(go_path, "w", encoding="utf-8"):
        pass
    figures = []
    for proc in procs:
        out, __ = proc.communicate()
        figures.extend(json.loads(line) for line in out.splitlines() if line.startswith("{"))
    if len(figures) != CRON_WORKERS:
        return [(label, None, None, f"a worker failed: see the logs in {work}")]
    secs = max(figure["end"] for figure in figures) - start
    queries = sum(figure["queries"] for figure in figures)
    # the reminder of each customer: its email posted on it (message_post, a comment)
    cr.execute(
        """SELECT msg.res_id, count(*) FROM mail_message msg
            WHERE msg.model = 'res.partner' AND msg.res_id = ANY(%s) AND msg.id > %s
              AND msg.message_type = 'comment'
         GROUP BY msg.res_id""",
        [chosen, messages_before],
    )
    counts = dict(cr.fetchall())
    duplicates = sorted(pid for pid, count in counts.items() if count > 1)
    missed = sorted(set(chosen) - set(counts))
    shares = "+".join(str(figure["sent"]) for figure in figures)
    return [(
        f"{label}: {len(chosen)} customers",
        secs,
        queries,
        f"{len(chosen) / secs:.1f} customers/s, {queries / len(chosen):.1f} queries/customer, sent {shares}, "
        f"duplicates {len(duplicates)}{' ' + str(duplicates[:10]) if duplicates else ''}, "
        f"missed {len(missed)}{' ' + str(missed[:10]) if missed else ''}, "
        f"peak RSS +{max(figure['rss_mb'] for figure in figures):.0f} MB per worker",
    )]


def cron_worker():
    """BENCH_PHASE=worker: one cron process of --cron-workers; prints ``ready``, waits for the
    common start, runs the cron on the bench's customers, prints its figures (JSON)."""
    with open(os.environ["BENCH_WORKER_IDS"], encoding="utf-8") as file:
        allowed = set(json.load(file))
    Partner = env["res.partner"].with_company(companies()["main"])
    cls = type(env["res.partner"])
    original = cls._get_followup_cron_partner_ids

    def restricted(self):
        if self.env.company != Partner.env.company:
            return []
        return [pid for pid in original(self) if pid in allowed]

    env["account.followup.level"].search([]).mapped("name")  # the registry and caches loaded
    cr.commit()
    rss_before = reset_peak_rss()
    print("ready", flush=True)
    while not os.path.exists(os.environ["BENCH_WORKER_GO"]):
        time.sleep(0.002)
    queries_before = cr.sql_log_count
    send_cls = type(env["account.followup.send"])
    process = send_cls._process_followups
    sent = []

    def counted(self, partners, *args, **kwargs):
        results = process(self, partners, *args, **kwargs)
        sent.extend(results["sent"].ids)
        return results

    with (
        patch.object(cls, "_get_followup_cron_partner_ids", restricted),
        patch.object(send_cls, "_process_followups", counted),
    ):
        Partner.env["res.partner"]._cron_execute_followups(max_batches=1000)
        cr.commit()
    end = time.time()
    queries = cr.sql_log_count - queries_before
    sent = len(sent)
    print(json.dumps({"end": end, "queries": queries, "sent": sent,
                      "rss_mb": (peak_rss() - rss_before) / 1024}), flush=True)


def _run_cron(Partner, level_1, ready, cls, original):
    rows = []
    for label, join_invoices, chosen, charges in (
        ("cron, email only", False, ready[:K], False),
        ("cron, email + invoice PDFs", True, ready[K : K + K_PDF], False),
        ("cron, email + late-payment charges shown", False, ready[K + K_PDF : 2 * K + K_PDF], True),
    ):
        if not chosen:
            reason = "not measured (--cron-pdf 0)" if join_invoices and not K_PDF else "no customer in need"
            rows.append((label, None, None, reason))
            continue
        if charges and not show_late_charges(Partner, level_1, True):
            rows.append((label, None, None, "n/a (no late-payment charges in this version)"))
            continue
        level_1.join_invoices = join_invoices
        cr.commit()
        allowed = set(chosen)

        def restricted(self, allowed=allowed):
            if self.env.company != Partner.env.company:
                return []
            return [pid for pid in original(self) if pid in allowed]

        cr.execute(
            "SELECT count(*) FROM ir_attachment WHERE res_model = 'account.move' AND res_field = 'invoice_pdf_report_file'"
        )
        pdfs_before = cr.fetchone()[0]
        cr.execute("SELECT COALESCE(MAX(id), 0) FROM mail_mail")
        mails_before = cr.fetchone()[0]
        env.invalidate_all()
        rss_before = reset_peak_rss()
        report_cls = type(env["ir.actions.report"])
        run_wkhtmltopdf = report_cls._run_wkhtmltopdf
        wkhtmltopdf_calls = []

        def counted(self, bodies, *args, calls=wkhtmltopdf_calls, run=run_wkhtmltopdf, **kwargs):
            calls.append(len(bodies))
            if WKHTMLTOPDF_BATCHES or len(bodies) == 1:
                return run(self, bodies, *args, **kwargs)
            return blank_pages(len(bodies))

        profiler = start_profiler()
        with (
            patch.object(cls, "_get_followup_cron_partner_ids", restricted),
            patch.object(report_cls, "_run_wkhtmltopdf", counted),
        ):
            secs = 0.0
            queries = 0
            for __ in range(5):  # the cron triggers itself again when work is left
                queries_before = cr.sql_log_count
                t0 = time.perf_counter()
                Partner.env["res.partner"]._cron_execute_followups(max_batches=1000)
                secs += time.perf_counter() - t0
                queries += cr.sql_log_count - queries_before
                # the bench's own check, left out of the measure
                if not [pid for pid in original(Partner) if pid in allowed]:
                    break
        stop_profiler(profiler, label, len(chosen))
        rss_growth = (peak_rss() - rss_before) / 1024
        cr.execute(
            "SELECT count(DISTINCT res_id) FROM mail_mail m JOIN mail_message msg ON msg.id = m.mail_message_id "
            "WHERE msg.model = 'res.partner' AND msg.res_id = ANY(%s) AND m.id > %s",
            [chosen, mails_before],
        )
        mailed = cr.fetchone()[0]
        cr.execute(
            "SELECT count(*) FROM ir_attachment WHERE res_model = 'account.move' AND res_field = 'invoice_pdf_report_file'"
        )
        pdfs = cr.fetchone()[0] - pdfs_before
        rows.append(
            (
                f"{label}: {len(chosen)} customers",
                secs,
                queries,
                f"{len(chosen) / secs:.1f} customers/s, {queries / len(chosen):.1f} queries/customer, "
                f"{mailed} mailed, {pdfs} PDFs kept, {len(wkhtmltopdf_calls)} wkhtmltopdf runs "
                f"for {sum(wkhtmltopdf_calls)} invoices, peak RSS +{rss_growth:.0f} MB"
                + (
                    ""
                    if WKHTMLTOPDF_BATCHES or not join_invoices
                    else " (this wkhtmltopdf renders one document per run: batches get blank stand-in pages)"
                ),
            )
        )
        if charges:
            show_late_charges(Partner, level_1, False)
    level_1.join_invoices = False
    cr.commit()
    return rows


if PHASE == "data":
    make_data()
    cr.commit()
elif PHASE == "history":
    apply_history()
    apply_policy()
    make_reminder_history()
elif PHASE == "worker":
    cron_worker()
elif PHASE == "measure":
    rows = run_measures()
    install = os.environ.get("BENCH_INSTALL")
    if install:
        rows.append(("install the addon on the existing lines", None, None, install))
    width = max(len(r[0]) for r in rows)
    print()
    print(f"{'measure'.ljust(width)} | {'seconds':>8} | {'queries':>7} | result")
    print(f"{'-' * width}-|{'-' * 10}|{'-' * 9}|{'-' * 40}")
    for label, secs, queries, result in rows:
        secs_text = f"{secs:8.3f}" if secs is not None else f"{'':>8}"
        queries_text = f"{queries:7d}" if queries is not None else f"{'':>7}"
        print(f"{label.ljust(width)} | {secs_text} | {queries_text} | {result}")
    cr.commit()
