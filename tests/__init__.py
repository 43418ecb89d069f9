from . import test_followup_status
