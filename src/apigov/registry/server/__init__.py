"""The registry's HTTP server: apigov's own JSON API (`api.py`), the Pact Broker subset
(`broker.py`), token auth (`auth.py`). `create_app` in `app.py` puts them together."""
