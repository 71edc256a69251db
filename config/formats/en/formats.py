"""Dates and times in the admin: 24-hour, to the second (a 10-second saga is not "9:59 p.m.").

The control room's own columns and timelines go to the millisecond (checkout/templatetags/saga_admin.py).
"""

DATETIME_FORMAT = "Y-m-d H:i:s"
SHORT_DATETIME_FORMAT = "Y-m-d H:i:s"
TIME_FORMAT = "H:i:s"
