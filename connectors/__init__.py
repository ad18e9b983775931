"""One package per tracker; vendor SDKs are imported only by each package's ``client.py``."""
