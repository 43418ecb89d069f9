"""Bulk test data: sample invoices made with the ORM, cloned in bulk with SQL.

Used by ``test_followup_scale`` (which proves that clones give exactly what
ORM-made invoices give) and by ``scripts/bench`` (a million open invoice lines
in minutes).  Not a test module: Odoo's test loader only imports ``test_*``.

A *spec* is a list of dicts, one per document of a sample customer:

- ``company``: key of the ``companies`` dict given to ``create_sample``;
- ``kind``: ``invoice``, ``refund`` (an open credit note) or ``payment`` (an
  unmatched customer payment);
- ``due``: days from today to the due date (negative: late);
- ``amount``; ``foreign``: in the foreign currency rather than the company's;
- ``paid``: amount of a partial payment registered 5 days ago;
- ``installments``: two receivable lines, half due 30 days before ``due``;
- ``blocked``: excluded from follow-ups;
- ``level``: index of the last follow-up level sent (default ladder order),
  sent on the day the level was reached (only when the addon is installed).

``clone_customers`` then copies every posted document of sample customers to
other customers, shifting every date by ``days`` and multiplying every amount
by an integer ``factor`` (so that rounding stays exact).
"""

from datetime import timedelta

from odoo import Command
from odoo.tools import SQL

# The documents of four kinds of customers, ten open invoices between them on average.
SPECS = {
    "on_time": [
        {"company": "main", "kind": "invoice", "due": 30, "amount": 400.0},
        {"company": "main", "kind": "invoice", "due": 10, "amount": 250.0},
        {"company": "main", "kind": "invoice", "due": -5, "amount": 120.0},
        {"company": "main", "kind": "invoice", "due": -12, "amount": 80.0, "paid": 30.0},
        {"company": "main", "kind": "invoice", "due": 0, "amount": 640.0, "installments": True},
        {"company": "main", "kind": "invoice", "due": 20, "amount": 90.0, "foreign": True},
        {"company": "main", "kind": "invoice", "due": -2, "amount": 60.0},
        {"company": "main", "kind": "invoice", "due": 25, "amount": 310.0},
        {"company": "main", "kind": "invoice", "due": 15, "amount": 75.0},
        {"company": "main", "kind": "refund", "due": -3, "amount": 40.0},
    ],
    "first_reminder": [
        {"company": "main", "kind": "invoice", "due": -20, "amount": 500.0},
        {"company": "main", "kind": "invoice", "due": -25, "amount": 300.0, "paid": 100.0},
        {"company": "main", "kind": "invoice", "due": -16, "amount": 220.0, "foreign": True},
        {"company": "main", "kind": "invoice", "due": 2, "amount": 150.0},
        {"company": "main", "kind": "invoice", "due": -8, "amount": 95.0},
        {"company": "main", "kind": "invoice", "due": 12, "amount": 180.0, "installments": True},
        {"company": "main", "kind": "invoice", "due": -1, "amount": 45.0},
        {"company": "main", "kind": "invoice", "due": 5, "amount": 60.0},
        {"company": "main", "kind": "invoice", "due": -30, "amount": 75.0, "blocked": True},
        {"company": "main", "kind": "refund", "due": -10, "amount": 50.0},
    ],
    "late": [
        {"company": "main", "kind": "invoice", "due": -45, "amount": 700.0, "level": 0},
        {"company": "main", "kind": "invoice", "due": -70, "amount": 900.0, "level": 1, "paid": 250.0},
        {"company": "main", "kind": "invoice", "due": -100, "amount": 1200.0, "level": 2},
        {"company": "main", "kind": "invoice", "due": -35, "amount": 330.0, "installments": True},
        {"company": "main", "kind": "invoice", "due": -150, "amount": 2000.0, "blocked": True},
        {"company": "main", "kind": "invoice", "due": -60, "amount": 410.0, "foreign": True, "level": 0},
        {"company": "main", "kind": "invoice", "due": -18, "amount": 140.0},
        {"company": "main", "kind": "invoice", "due": -4, "amount": 70.0},
        {"company": "main", "kind": "invoice", "due": 8, "amount": 85.0},
        {"company": "main", "kind": "payment", "due": -6, "amount": 100.0},
    ],
    "two_companies": [
        {"company": "main", "kind": "invoice", "due": -200, "amount": 1500.0, "level": 2},
        {"company": "main", "kind": "invoice", "due": -40, "amount": 260.0, "foreign": True},
        {"company": "main", "kind": "invoice", "due": -9, "amount": 130.0},
        {"company": "main", "kind": "invoice", "due": 18, "amount": 210.0},
        {"company": "main", "kind": "refund", "due": -50, "amount": 100.0},
        {"company": "second", "kind": "invoice", "due": -35, "amount": 800.0},
        {"company": "second", "kind": "invoice", "due": -120, "amount": 650.0, "level": 1},
        {"company": "second", "kind": "invoice", "due": 4, "amount": 300.0, "installments": True},
        {"company": "second", "kind": "invoice", "due": -22, "amount": 190.0, "paid": 90.0},
        {"company": "second", "kind": "invoice", "due": -3, "amount": 55.0},
    ],
}


def count_open_invoices(spec):
    return sum(1 for doc in spec if doc["kind"] == "invoice")


# ------------------------------------------------------------
# ORM SAMPLE
# ------------------------------------------------------------


def get_installments_term(env):
    """Return a payment term paying half at once and half 30 days later."""
    term = env["account.payment.term"].search([("name", "=", "Follow-up bench 50/50")], limit=1)
    return term or env["account.payment.term"].create(
        {
            "name": "Follow-up bench 50/50",
            "company_id": False,
            "line_ids": [
                Command.create({"value": "percent", "value_amount": 50.0, "nb_days": 0}),
                Command.create({"value": "percent", "value_amount": 50.0, "nb_days": 30}),
            ],
        }
    )


def create_sample(env, partner, spec, companies, foreign_currency, today, days=0, factor=1):
    """Create with the ORM the documents of ``spec`` for ``partner``.

    ``days`` and ``factor`` shift the dates and multiply the amounts as
    ``clone_customers`` does, to make the ORM twin of a clone.

    :param companies: ``{"main": res.company, "second": res.company}``
    :return: the posted account.move records
    """
    moves = env["account.move"]
    has_levels = "followup_level_id" in env["account.move.line"]._fields
    term = get_installments_term(env)
    for doc in spec:
        company = companies[doc["company"]]
        currency = foreign_currency if doc.get("foreign") else company.currency_id
        amount = doc["amount"] * factor
        due = today + timedelta(days=doc["due"] + days)
        Move = env["account.move"].with_company(company)
        if doc["kind"] == "payment":
            payment = (
                env["account.payment"]
                .with_company(company)
                .create(
                    {
                        "payment_type": "inbound",
                        "partner_type": "customer",
                        "partner_id": partner.id,
                        "amount": amount,
                        "currency_id": currency.id,
                        "date": due,
                    }
                )
            )
            payment.action_post()
            moves |= payment.move_id
            continue
        values = {
            "move_type": "out_refund" if doc["kind"] == "refund" else "out_invoice",
            "partner_id": partner.id,
            "currency_id": currency.id,
            "invoice_line_ids": [
                Command.create(
                    {
                        "name": "Consulting",
                        "quantity": 1.0,
                        "price_unit": amount,
                        "tax_ids": [Command.clear()],
                    }
                )
            ],
        }
        if doc.get("installments"):
            start = due - timedelta(days=30)
            values.update(
                invoice_date=start, date=min(start, today + timedelta(days=days)), invoice_payment_term_id=term.id
            )
        else:
            invoice_date = min(due, today + timedelta(days=days)) - timedelta(days=30)
            values.update(
                invoice_date=invoice_date, date=invoice_date, invoice_date_due=due, invoice_payment_term_id=False
            )
        move = Move.create(values)
        move.action_post()
        receivable = move.line_ids.filtered(lambda line: line.account_id.account_type == "asset_receivable")
        if doc.get("paid"):
            env["account.payment.register"].with_company(company).with_context(
                active_model="account.move", active_ids=move.ids
            ).create(
                {
                    "amount": doc["paid"] * factor,
                    "payment_date": today + timedelta(days=days - 5),
                    "payment_difference_handling": "open",
                }
            )._create_payments()
            moves |= move._get_reconciled_payments().move_id
        if doc.get("blocked"):
            receivable.blocked = True
        if has_levels and doc.get("level") is not None:
            level = env["account.followup.level"].search([("company_id", "=", company.id)], order="delay, id")[
                doc["level"]
            ]
            receivable.write({"followup_level_id": level.id, "followup_date": due + timedelta(days=level.delay)})
        moves |= move
    return moves


# ------------------------------------------------------------
# SQL CLONES
# ------------------------------------------------------------

# Amount columns multiplied by the factor of a copy (all ``amount*`` columns too).
SCALED_COLUMNS = {
    "debit",
    "credit",
    "balance",
    "price_unit",
    "price_subtotal",
    "price_total",
    "tax_base_amount",
    "discount_amount_currency",
    "discount_balance",
}
# Links a clone must not share with its sample: payments, statements, attachments.
NULL_COLUMNS = {
    "payment_id",
    "statement_line_id",
    "statement_id",
    "message_main_attachment_id",
    "access_token",
    "inalterable_hash",
    "secure_sequence_number",
}
PARTNER_COLUMNS = {"partner_id", "commercial_partner_id", "partner_shipping_id"}
# Cloned tables, in insertion order, with how their sample rows are found.
CLONED_TABLES = ("account_move", "account_full_reconcile", "account_move_line", "account_partial_reconcile")


def _columns(cr, table):
    cr.execute(
        SQL(
            """
        SELECT column_name, data_type FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = %s
         ORDER BY ordinal_position
        """,
            table,
        )
    )
    return cr.fetchall()


def _foreign_keys(cr, table):
    """Return ``{column: referenced table}`` for the single-column foreign keys of a table."""
    cr.execute(
        SQL(
            """
        SELECT att.attname, ref.relname
          FROM pg_constraint con
          JOIN pg_class tbl ON tbl.oid = con.conrelid
          JOIN pg_class ref ON ref.oid = con.confrelid
          JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = con.conkey[1]
         WHERE con.contype = 'f' AND tbl.relname = %s AND array_length(con.conkey, 1) = 1
        """,
            table,
        )
    )
    return dict(cr.fetchall())


def _map_table(table):
    return SQL.identifier(f"bulk_map_{table}")


def clone_customers(env, copies):
    """Copy the posted documents of sample customers to other customers, in bulk.

    Moves, their lines, partial and full reconciliations are cloned with fresh ids
    (references between cloned rows follow the clones); dates are shifted, amounts
    multiplied, the customer replaced, names made unique.  Payments, bank statements
    and attachments are not cloned: the clones of payment moves are plain entries.

    :param copies: iterable of ``(sample_partner_id, target_partner_id, days, factor)``
    :return: ``{table: rows inserted}``
    """
    cr = env.cr
    env.flush_all()
    copies = list(copies)
    cr.execute("DROP TABLE IF EXISTS bulk_copy")
    cr.execute(
        "CREATE TEMP TABLE bulk_copy (copy_no int PRIMARY KEY, source_id int, target_id int, days int, factor int)"
    )
    # numbered across calls: the copy number makes the names of the cloned moves unique
    cr.execute("CREATE SEQUENCE IF NOT EXISTS bulk_copy_no_seq")
    cr.execute(
        SQL(
            "INSERT INTO bulk_copy (copy_no, source_id, target_id, days, factor) "
            "SELECT nextval('bulk_copy_no_seq'), * FROM unnest(%s::int[], %s::int[], %s::int[], %s::int[])",
            [c[0] for c in copies],
            [c[1] for c in copies],
            [c[2] for c in copies],
            [c[3] for c in copies],
        )
    )
    # Sample rows of each table, for each copy.
    sample_queries = {
        "account_move": SQL(
            "SELECT c.copy_no, m.id FROM bulk_copy c JOIN account_move m "
            "ON m.partner_id = c.source_id AND m.state = 'posted'"
        ),
        "account_move_line": SQL(
            "SELECT mm.copy_no, l.id FROM bulk_map_account_move mm JOIN account_move_line l ON l.move_id = mm.old_id"
        ),
        "account_full_reconcile": SQL(
            "SELECT DISTINCT mm.copy_no, l.full_reconcile_id FROM bulk_map_account_move mm "
            "JOIN account_move_line l ON l.move_id = mm.old_id WHERE l.full_reconcile_id IS NOT NULL"
        ),
        "account_partial_reconcile": SQL(
            "SELECT lm.copy_no, p.id FROM bulk_map_account_move_line lm "
            "JOIN account_partial_reconcile p ON p.debit_move_id = lm.old_id "
            "JOIN bulk_map_account_move_line cm ON cm.copy_no = lm.copy_no AND cm.old_id = p.credit_move_id"
        ),
    }
    # The maps of moves and lines are needed before the others can be found.
    for table in ("account_move", "account_move_line", "account_full_reconcile", "account_partial_reconcile"):
        cr.execute(SQL("DROP TABLE IF EXISTS %s", _map_table(table)))
        cr.execute(
            SQL(
                "CREATE TEMP TABLE %s AS SELECT s.copy_no, s.old_id, nextval(%s) AS new_id "
                "FROM (%s) AS s(copy_no, old_id) ORDER BY s.copy_no, s.old_id",
                _map_table(table),
                f"{table}_id_seq",
                sample_queries[table],
            )
        )
        cr.execute(SQL("CREATE UNIQUE INDEX ON %s (copy_no, old_id)", _map_table(table)))
        cr.execute(SQL("ANALYZE %s", _map_table(table)))
    inserted = {}
    for table in CLONED_TABLES:
        inserted[table] = _clone_table(cr, table)
    for table in ("bulk_copy", *(f"bulk_map_{t}" for t in CLONED_TABLES)):
        cr.execute(SQL("DROP TABLE %s", SQL.identifier(table)))
    env.invalidate_all()
    return inserted


def _clone_table(cr, table):
    foreign_keys = _foreign_keys(cr, table)
    names, expressions, joins = [], [], []
    for column, data_type in _columns(cr, table):
        col = SQL.identifier("t", column)
        referenced = foreign_keys.get(column)
        if column == "id":
            expression = SQL("m.new_id")
        elif column in NULL_COLUMNS:
            expression = SQL("NULL")
        elif column in PARTNER_COLUMNS and referenced == "res_partner":
            expression = SQL("c.target_id")
        elif referenced in CLONED_TABLES:
            alias = f"fk_{column}"
            joins.append(
                SQL(
                    "LEFT JOIN %s %s ON %s = m.copy_no AND %s = %s",
                    _map_table(referenced),
                    SQL.identifier(alias),
                    SQL.identifier(alias, "copy_no"),
                    SQL.identifier(alias, "old_id"),
                    col,
                )
            )
            expression = SQL("COALESCE(%s, %s)", SQL.identifier(alias, "new_id"), col)
        elif column in ("name", "move_name") and table in ("account_move", "account_move_line"):
            expression = SQL("CASE WHEN %s = '/' THEN %s ELSE %s || '-' || m.copy_no END", col, col, col)
        elif column == "sequence_prefix":
            # out of the journal's sequence: the next invoice numbers follow the samples, not the clones
            expression = SQL("'BULK/' || %s", col)
        elif data_type == "date":
            expression = SQL("%s + c.days", col)
        elif data_type == "numeric" and (column in SCALED_COLUMNS or column.startswith("amount")):
            expression = SQL("%s * c.factor", col)
        else:
            expression = col
        names.append(SQL.identifier(column))
        expressions.append(expression)
    cr.execute(
        SQL(
            """
        INSERT INTO %(table)s (%(names)s)
        SELECT %(expressions)s
          FROM %(map)s m
          JOIN bulk_copy c ON c.copy_no = m.copy_no
          JOIN %(table)s t ON t.id = m.old_id
          %(joins)s
         ORDER BY m.new_id
        """,
            table=SQL.identifier(table),
            names=SQL(", ").join(names),
            expressions=SQL(", ").join(expressions),
            map=_map_table(table),
            joins=SQL(" ").join(joins),
        )
    )
    return cr.rowcount
