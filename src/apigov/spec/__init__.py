"""Loading documents: parse, resolve `$ref`, normalise Swagger 2.0, validate."""

from apigov.spec.errors import InputError
from apigov.spec.limits import Limits
from apigov.spec.loader import Loader
from apigov.spec.model import ApiSpec, Document, PactFile, ServiceFile

__all__ = ["ApiSpec", "Document", "InputError", "Limits", "Loader", "PactFile", "ServiceFile"]
