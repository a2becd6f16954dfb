"""Create or drop a PostgreSQL database: ``pg_database.py create|drop URL``.

Used by the live-CRM test helper (tests/live_crm.py), which runs in either Python
environment and so cannot import SQLAlchemy itself.
"""

from __future__ import annotations

import sys

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def main(verb: str, url_text: str) -> None:
    """Run CREATE DATABASE or DROP DATABASE … WITH (FORCE) on the server of URL."""
    url = make_url(url_text)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    statement = {
        "create": f'CREATE DATABASE "{url.database}"',
        "drop": f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)',
    }[verb]
    try:
        with admin.connect() as conn:
            conn.execute(text(statement))
    finally:
        admin.dispose()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
