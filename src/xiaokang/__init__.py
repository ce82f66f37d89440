"""xiaokang (小康): targeted poverty alleviation, return-to-poverty monitoring and well-off indicators."""

__version__ = "0.1.0"
