class Refused(Exception):
    """A business rule said no (short stock, short credit, a paid order): a 4xx, never a 500."""

    status = 400

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class Conflict(Refused):
    """The request is fine but the resource's state forbids it now (a checkout in progress)."""

    status = 409


class Overloaded(Exception):
    """Past capacity: refused before anything was created or charged (503 with Retry-After, ADR 0010)."""

    status = 503
    code = "OVERLOADED"

    def __init__(self, *, retry_after: int, detail: str) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
        self.detail = detail

    def body(self, **first) -> dict:
        """The answer's JSON: `first` (the /wdm dialect's order_id), then the error and its detail."""
        return {**first, "error": self.code, "detail": self.detail}
