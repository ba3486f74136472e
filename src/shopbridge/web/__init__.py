"""The web server: REST API, webhook receivers and the operator's pages."""
