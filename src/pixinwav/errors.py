"""The exceptions users see: each message is a single line naming the problem."""


class PixinwavError(Exception):
    pass


class NotFound(PixinwavError):
    """The audio was read, but nothing true came out of it: no payload of this model (and key) is there, or
    (``lost``) one was found that cannot be rebuilt exactly. The server answers 404; callers branch on the type,
    never on the message's words."""

    def __init__(self, message: str, lost: bool = False):
        super().__init__(message)
        self.lost = lost
