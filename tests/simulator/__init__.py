"""Local IAM simulator for the iamguard.aws tests: moto in server mode plus a realism layer."""

from .server import Simulator

__all__ = ["Simulator"]
