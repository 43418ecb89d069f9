from . import account_followup_send
