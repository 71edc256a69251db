from datetime import datetime

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def ago(moment: datetime | None) -> str:
    """`12 s ago`, `3 min ago`, `2 h ago`: an operator's sense of how recent, to the second while it matters."""
    if moment is None:
        return ""
    seconds = max(0, round((timezone.now() - moment).total_seconds()))
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    if seconds < 172800:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"


@register.filter
def duration(ms: int | None, digits: int = 2) -> str:
    """`840 ms` below a second, `3.10 s` above (`digits` decimals): offsets and durations on the saga's pages."""
    if ms is None:
        return ""
    return f"{ms} ms" if abs(ms) < 1000 else f"{ms / 1000:.{digits}f} s"


@register.filter
def seconds(ms: int | None) -> str:
    """`0.312 s`, `10.004 s`: a duration to the millisecond, in seconds whatever its size."""
    if ms is None:
        return ""
    return f"{ms / 1000:.3f} s"


@register.filter
def offset(ms: int | None) -> str:
    """`+0.312 s`, `+10.004 s`: a time since an attempt started, to the millisecond."""
    if ms is None:
        return ""
    return f"{'-' if ms < 0 else '+'}{seconds(abs(ms))}"


@register.filter
def clock(moment: datetime | None) -> str:
    """`21:59:03.412`: a moment of the day (the site's time zone), to the millisecond."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    return f"{local:%H:%M:%S}.{local.microsecond // 1000:03d}"


@register.filter
def stamp(moment: datetime | None) -> str:
    """`2026-11-22 21:59:03.412`: a date and time to the millisecond, for the control room's lists."""
    if moment is None:
        return ""
    return f"{timezone.localtime(moment):%Y-%m-%d} {clock(moment)}"
