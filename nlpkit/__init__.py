"""nlpkit: Korean + English NLP data pipeline and classical-ML toolkit.

The package is a plain library: importing it starts no engine, reads no environment
variable and imports no orchestration framework (flows live in ``pipelines/``).
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
