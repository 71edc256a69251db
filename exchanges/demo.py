"""Demo currencies, and seed 000's slow currencies when SAGA_FAULT_PROFILE=seed."""

from checkout.faults import SLOW_AFTER_CHECK, SLOW_BEFORE_CHECK

DEMO_STOCK = 1_000_000

# (id, code, rate in points per unit). Currency 1 has rate 1, so the seed's numbers hold.
DEMO_CURRENCIES = [(1, "USD", 1), (2, "EUR", 2), (3, "GBP", 3)]
SEED_FAULT_CURRENCIES = [(SLOW_BEFORE_CHECK, "SLOW", 1), (SLOW_AFTER_CHECK, "QUIZ", 1)]


def demo_currencies(fault_profile: str) -> list[tuple[int, str, int]]:
    return DEMO_CURRENCIES + (SEED_FAULT_CURRENCIES if "seed" in fault_profile.split(",") else [])
