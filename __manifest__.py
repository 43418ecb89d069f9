# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Payment Follow-up",
    "summary": "Remind customers of overdue invoices: follow-up levels, "
    "reports, email, SMS, letters and automatic reminders",
    "version": "17.0.1.0.0",
    "category": "Accounting/Accounting",
    "website": "https://github.com/account-payment-followup/account_payment_followup",
    "author": "account_payment_followup developers",
    "license": "LGPL-3",
    "depends": ["account", "mail", "sms", "snailmail_account"],
    "data": [
        "security/account_payment_followup_security.xml",
        "security/ir.model.access.csv",
        "data/mail_template_data.xml",
        "data/sms_template_data.xml",
        "data/account_followup_level_data.xml",
        "views/account_followup_level_views.xml",
        "views/res_partner_views.xml",
        "views/account_move_line_views.xml",
        "views/account_payment_followup_menus.xml",
        "report/followup_report.xml",
        "report/followup_templates.xml",
    ],
    "demo": ["demo/account_payment_followup_demo.xml"],
    "installable": True,
    "application": False,
}
