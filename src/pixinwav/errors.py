"""The one exception type users see: its message is a single line naming the problem."""


class PixinwavError(Exception):
    pass
