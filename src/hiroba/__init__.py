"""hiroba (広場): the public square a ward office runs its participation and DX work on."""

__version__ = "0.1.0"
