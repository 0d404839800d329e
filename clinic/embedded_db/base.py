from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    """PostgreSQL backend that starts the embedded server before connecting."""

    def get_connection_params(self):
        from clinic.embedded_db import ensure_running

        params = super().get_connection_params()
        params["host"] = ensure_running()
        return params
