"""SQLAlchemy Core tables. Every change here comes with an Alembic migration.

Types are portable (no SQLite-only or PostgreSQL-only column types), so the same queries
run on both backends.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

# Constraint names are explicit so that migrations can refer to them on both backends.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

papers = Table(
    "papers",
    metadata,
    Column("id", String(100), primary_key=True),  # arXiv id without version, or a source id
    Column("source", String(40), nullable=False),
    Column("version", Integer),
    Column("title", Text, nullable=False),
    Column("abstract", Text, nullable=False),
    Column("authors", JSON, nullable=False),  # list of names, in order
    Column("categories", JSON, nullable=False),  # list, primary first
    Column("primary_category", String(40)),
    Column("submitted_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True)),
    Column("comments", Text),
    Column("journal_ref", Text),
    Column("doi", String(200)),
    Column("license", String(200)),
    Column("url", Text),
    Column("venue", Text),
    Column("thumbnail_url", Text),
    Column("organization_id", Integer, ForeignKey("organizations.id", ondelete="SET NULL")),
    # the most upvotes any import reported for this paper; local votes are counted apart
    Column("imported_upvotes", Integer, nullable=False, server_default="0"),
    Column("local_upvotes", Integer, nullable=False, server_default="0"),
    Column("local_comments", Integer, nullable=False, server_default="0"),  # visible ones
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("modified_at", DateTime(timezone=True), nullable=False),
)
Index("ix_papers_submitted_at", papers.c.submitted_at)
Index("ix_papers_organization_id", papers.c.organization_id)

paper_authors = Table(
    "paper_authors",
    metadata,
    Column("paper_id", String(100), ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("name_key", Text, nullable=False),  # casefolded, for author pages
)
Index("ix_paper_authors_name_key", paper_authors.c.name_key)

organizations = Table(
    "organizations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("slug", String(100), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("avatar_url", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

feed_entries = Table(
    "feed_entries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("paper_id", String(100), ForeignKey("papers.id", ondelete="CASCADE"), nullable=False),
    Column("feed_date", Date, nullable=False),
    Column("position", Integer, nullable=False),  # order within the day as featured
    Column("upvotes", Integer, nullable=False, server_default="0"),  # carried from an import
    Column("num_comments", Integer, nullable=False, server_default="0"),
    Column("submitted_by", String(100)),
    Column("submitted_by_name", Text),
    # the local member who submitted or featured it (imports name HF users, not members)
    Column("featured_by_user_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("organization_id", Integer, ForeignKey("organizations.id", ondelete="SET NULL")),
    Column("source", String(40), nullable=False),  # "hf", "curator", "submission"
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("feed_date", "paper_id", name="uq_feed_entries_feed_date_paper_id"),
)
Index("ix_feed_entries_paper_id", feed_entries.c.paper_id)
Index("ix_feed_entries_featured_by_user_id", feed_entries.c.featured_by_user_id)

links = Table(
    "links",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("paper_id", String(100), ForeignKey("papers.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(20), nullable=False),  # models.LinkKind
    Column("url", Text, nullable=False),
    Column("origin", String(20), nullable=False),  # "source" (stated) or "extracted"
    UniqueConstraint("paper_id", "url", name="uq_links_paper_id_url"),
)

# Small named counters. "content_version" goes up with every write that changes what
# pages show, so that each web process can cache rendered pages keyed on it.
site_state = Table(
    "site_state",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("value", Integer, nullable=False, server_default="0"),
)

# Search work queues: papers whose keyword document, or whose embedding, is out of date.
# Writers add ids in the same transaction as the change; the indexer removes them only
# after the index has committed, so a crash in between re-indexes (idempotently) and
# never forgets a paper.
keyword_queue = Table(
    "keyword_queue",
    metadata,
    Column("paper_id", String(100), ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
)

embedding_queue = Table(
    "embedding_queue",
    metadata,
    Column("paper_id", String(100), ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
)

# One embedding of title + abstract per paper. ``key`` is the paper's key in the vector
# index; ``seq`` orders writes, so the vector index catches up from the last seq it holds.
embeddings = Table(
    "embeddings",
    metadata,
    Column("key", Integer, primary_key=True, autoincrement=True),
    Column(
        "paper_id",
        String(100),
        ForeignKey("papers.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    Column("model", String(100), nullable=False),
    Column("vector", LargeBinary, nullable=False),  # float16, little-endian
    Column("seq", Integer, nullable=False),
)
Index("ix_embeddings_seq", embeddings.c.seq)

# --- Community: accounts, sessions, tokens, votes, comments, organizations, claims ---

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(40), nullable=False),
    Column("username_key", String(40), nullable=False, unique=True),  # casefolded
    Column("email", String(320), nullable=False, unique=True),  # lowercased
    Column("display_name", Text),
    Column("password_hash", Text, nullable=False),
    Column("role", String(20), nullable=False, server_default="member"),  # models.Role
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Server-side sessions: the cookie holds a random token, the table its SHA-256, so that a
# stolen database does not hand out live sessions. Shared by every web process.
sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)
Index("ix_sessions_user_id", sessions.c.user_id)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),  # shown in the token list
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_used_at", DateTime(timezone=True)),
)
Index("ix_api_tokens_user_id", api_tokens.c.user_id)

password_resets = Table(
    "password_resets",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
)

# One row per user and paper: the primary key, not application code, makes a second vote
# impossible, whatever the concurrency. papers.local_upvotes counts the rows.
votes = Table(
    "votes",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("paper_id", String(100), ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Index("ix_votes_paper_id", votes.c.paper_id)

comments = Table(
    "comments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("paper_id", String(100), ForeignKey("papers.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("parent_id", Integer, ForeignKey("comments.id", ondelete="CASCADE")),
    Column("body", Text, nullable=False),  # Markdown as written
    Column("body_html", Text, nullable=False),  # rendered and sanitized once, at write time
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("edited_at", DateTime(timezone=True)),
    Column("deleted_at", DateTime(timezone=True)),
    Column("hidden_at", DateTime(timezone=True)),
    Column("hidden_by", Integer, ForeignKey("users.id", ondelete="SET NULL")),
)
Index("ix_comments_paper_id", comments.c.paper_id)
Index("ix_comments_user_id", comments.c.user_id)

organization_members = Table(
    "organization_members",
    metadata,
    Column(
        "organization_id",
        Integer,
        ForeignKey("organizations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("joined_at", DateTime(timezone=True), nullable=False),
)
Index("ix_organization_members_user_id", organization_members.c.user_id)

# A member's claim to be an author of a paper: pending -> verified | rejected (by a
# curator); a rejected claim can be reopened (back to pending).
author_claims = Table(
    "author_claims",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("paper_id", String(100), ForeignKey("papers.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("author_name", Text, nullable=False),  # which of the paper's authors
    Column("status", String(20), nullable=False, server_default="pending"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("decided_at", DateTime(timezone=True)),
    Column("decided_by", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    UniqueConstraint("paper_id", "user_id", name="uq_author_claims_paper_id_user_id"),
)
Index("ix_author_claims_user_id", author_claims.c.user_id)
Index("ix_author_claims_status", author_claims.c.status)

# Fixed-window counters for rate limits, in the database so that every web process
# shares them. ``window`` is the window's start (seconds since the epoch).
rate_limits = Table(
    "rate_limits",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("window", Integer, primary_key=True),
    Column("hits", Integer, nullable=False),
)
Index("ix_rate_limits_window", rate_limits.c.window)

# --- Sync and worker: a durable job queue, and how far each source has synced ---

# Jobs claimed with a lease: a worker sets ``locked_by``/``locked_until`` in one atomic
# UPDATE; a job whose lease ran out (its worker died) is claimable again. ``unique_key``
# is set while a job is queued or running, so a scheduled job is never queued twice.
jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(40), nullable=False),
    Column("args", JSON, nullable=False),
    Column("status", String(20), nullable=False, server_default="queued"),
    Column("unique_key", String(200), unique=True),
    Column("run_after", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("max_attempts", Integer, nullable=False, server_default="5"),
    Column("locked_by", String(100)),
    Column("locked_until", DateTime(timezone=True)),
    Column("result", JSON),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
)
Index("ix_jobs_status_run_after", jobs.c.status, jobs.c.run_after)

# One row per configured source ("arxiv", "oai", "hf"): its resumable cursor (a
# resumption token, the newest update seen, the last day read) and its last run.
sync_sources = Table(
    "sync_sources",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("cursor", JSON),
    Column("last_started_at", DateTime(timezone=True)),
    Column("last_finished_at", DateTime(timezone=True)),
    Column("last_success_at", DateTime(timezone=True)),
    Column("last_status", String(20)),  # "running", "ok", "error"
    Column("last_error", Text),
    Column("last_counts", JSON),  # fetched, inserted, updated, unchanged, skipped
)

# --- Digests: subscriptions, the per-message outbox, suppressed addresses ---

# A subscription is inactive ("pending") until its emailed link is confirmed; tokens are
# stored as SHA-256 (the confirm link expires; the unsubscribe link lasts).
subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False),  # lowercased
    Column("user_id", Integer, ForeignKey("users.id", ondelete="SET NULL")),
    Column("frequency", String(10), nullable=False),  # "daily" (weekdays) or "weekly"
    Column("hour_utc", Integer, nullable=False, server_default="7"),  # when to send
    Column("topics", JSON, nullable=False),  # {"categories": [], "organizations": [], ...}
    Column("status", String(20), nullable=False, server_default="pending"),
    Column("confirm_token_hash", String(64), unique=True),
    Column("confirm_expires_at", DateTime(timezone=True)),
    Column("unsubscribe_token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("confirmed_at", DateTime(timezone=True)),
    Column("unsubscribed_at", DateTime(timezone=True)),
)
Index("ix_subscriptions_email", subscriptions.c.email)
Index("ix_subscriptions_status_frequency", subscriptions.c.status, subscriptions.c.frequency)

# One row per subscription and period ("daily:2026-11-26", "weekly:2026-W48"): the unique
# constraint means a period's digest is composed and sent at most once per subscription.
# A row is marked "sending" (committed) before the SMTP conversation and "sent" after,
# so a crash in between re-sends it once (same Message-ID) and never loses it.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "subscription_id",
        Integer,
        ForeignKey("subscriptions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("period_key", String(40), nullable=False),
    Column("email", String(320), nullable=False),
    Column("message_id", String(200), nullable=False, unique=True),
    Column("subject", Text, nullable=False),
    Column("body_text", Text, nullable=False),
    Column("body_html", Text, nullable=False),
    Column("status", String(20), nullable=False, server_default="queued"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    UniqueConstraint("subscription_id", "period_key", name="uq_outbox_subscription_id_period_key"),
)
Index("ix_outbox_status_next_attempt_at", outbox.c.status, outbox.c.next_attempt_at)

# Addresses that bounced hard (5xx) or complained: never mailed again.
suppressions = Table(
    "suppressions",
    metadata,
    Column("email", String(320), primary_key=True),
    Column("reason", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
