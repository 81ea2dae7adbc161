"""English dates as the portal writes them: "7 December 2026" (day, month, year), never the US "Dec. 7, 2026".

Django's own English formats are American; FORMAT_MODULE_PATH (portal/settings.py) puts these first. Machine dates
(YYYY-MM-DD, the `date:"Y-m-d"` filters) are unchanged; Chinese keeps Django's "2026年12月7日".
"""

DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y, H:i"
MONTH_DAY_FORMAT = "j F"
YEAR_MONTH_FORMAT = "F Y"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
FIRST_DAY_OF_WEEK = 1  # Monday
