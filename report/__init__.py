from . import followup_report
