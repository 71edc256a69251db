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
