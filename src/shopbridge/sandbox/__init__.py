"""Emulators of the external APIs, served as ASGI apps; they import nothing above them."""
