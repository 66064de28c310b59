"""gunicorn entry point: `gunicorn wsgi:app`."""

from reader import create_app

app = create_app()
