"""gunicorn settings for serving the site: `gunicorn -c python:market.gunicorn_conf 'market:create_app()'`.

The application is loaded once in the master (`preload_app`) with what every request shares already in memory
(`WARM_FOR_WORKERS`, see market/startup.py), and the workers forked from it share those pages."""
import os

preload_app = True
os.environ.setdefault("MARKET_WARM_FOR_WORKERS", "1")
