"""The request path: the ASGI application and its routes, one API call from request to
answer, the control API tests use, faults, metrics and their own port."""
