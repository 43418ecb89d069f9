"""Follow-up plans (17.0.1.1.0): each company's levels moved into a plan of the company before
``plan_id`` became required (``account.followup.level._init_column``); that plan becomes the
company's default plan."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    for company in env["res.company"].with_context(active_test=False).search([]):
        company._followup_ensure_default_plan()
