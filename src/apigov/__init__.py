"""apigov: contract testing and API governance for fleets of microservices."""

from apigov.findings import Finding, Level, Location, Report

__version__ = "0.1.0"

__all__ = ["Finding", "Level", "Location", "Report", "__version__"]
