from . import account_followup_send
from . import account_followup_statement
from . import account_followup_hold
