"""``python -m crm_backend.demo``: load the reproducible demo book into the database.

The schema must already be migrated (``alembic upgrade head``). Examples::

    python -m crm_backend.demo --customers 3000 --if-empty
    python -m crm_backend.demo --customers 1000000 --database-url postgresql+psycopg://…
    python -m crm_backend.demo --print-demo-customers
"""

from __future__ import annotations

import argparse
import sys
from datetime import date

from sqlalchemy.orm import Session

from crm_backend.core.config import get_settings
from crm_backend.core.db import make_engine
from crm_backend.demo.catalog import (
    DEFAULT_SEED,
    DEMO_PASSWORD,
    demo_customers_markdown,
)
from crm_backend.demo.generate import (
    DEFAULT_CHUNK,
    DEFAULT_CUSTOMERS,
    NotEmpty,
    Summary,
    ensure_empty,
    generate,
    seed_canned_replies,
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m crm_backend.demo", description="Load the demo book of business."
    )
    parser.add_argument("--customers", type=int, default=DEFAULT_CUSTOMERS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--database-url", help="default: the CRM_DATABASE_URL setting")
    parser.add_argument(
        "--as-of", type=date.fromisoformat, help="the book's 'today' (default: today)"
    )
    parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK)
    parser.add_argument(
        "--if-empty", action="store_true", help="do nothing when customers exist"
    )
    parser.add_argument(
        "--no-scores", action="store_true", help="skip value/churn score computation"
    )
    parser.add_argument(
        "--print-demo-customers",
        action="store_true",
        help="print the demo customers as a markdown table and exit",
    )
    return parser


def _report(summary: Summary, customers: int) -> None:
    print(f"Loaded {customers} demo customers in {summary.seconds:.1f} s")
    width = max(len(name) for name in summary.counts)
    for name, count in summary.counts.items():
        print(f"  {name:<{width}}  {count:>10,}")
    print(f"  scores: {summary.scores}")
    print(
        f"\nAgents log in with their employee number (KN1001…) and '{DEMO_PASSWORD}'."
    )
    print("\nDemo customers (phone + ID last 4, or policy no. + birth date):\n")
    print(demo_customers_markdown())


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    if args.print_demo_customers:
        print(demo_customers_markdown())
        return 0
    settings = get_settings()
    engine = make_engine(args.database_url or settings.database_url)
    try:
        with Session(engine) as session:
            try:
                ensure_empty(session)
            except NotEmpty as exc:
                if args.if_empty:
                    added = seed_canned_replies(session)
                    session.commit()
                    print(f"Demo data not loaded: {exc}; {added} canned replies added.")
                    return 0
                print(f"Refusing to load demo data: {exc}.", file=sys.stderr)
                return 1

            def progress(done: int, total: int) -> None:
                print(f"\r  {done:,}/{total:,} customers", end="", flush=True)

            summary = generate(
                session,
                customers=args.customers,
                seed=args.seed,
                today=args.as_of,
                settings=settings,
                chunk_size=args.chunk_size,
                scores=not args.no_scores,
                progress=progress if args.customers >= 20_000 else None,
            )
            session.commit()
    finally:
        engine.dispose()
    if args.customers >= 20_000:
        print()
    _report(summary, args.customers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
