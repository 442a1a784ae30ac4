"""Author claims: a member says "I am this author of this paper"; a curator decides.

The life of a claim: pending -> verified | rejected (by a curator); a rejected claim can
be reopened by its member (-> pending); a pending one can be withdrawn (deleted). A
member has at most one claim per paper (the table's unique constraint). Two members
cannot both be verified as the same author of a paper. Verified authors show on the
paper page and may edit the paper's links (see :mod:`paperwire.community.edits`).
"""

from __future__ import annotations

from sqlalchemy import Connection

from paperwire.clock import utcnow
from paperwire.errors import Conflict, Forbidden, NotFound, UserError
from paperwire.models import Paper, User
from paperwire.store import claims as claim_store
from paperwire.store import papers as paper_store
from paperwire.store.claims import Claim, ClaimStatus
from paperwire.store.state import bump_content_version

MAX_QUEUE = 100


def _paper(conn: Connection, paper_id: str) -> Paper:
    paper = paper_store.get_paper(conn, paper_id)
    if paper is None:
        raise NotFound(f"No paper with id {paper_id[:100]!r}.")
    return paper


def _claim(conn: Connection, claim_id: int) -> Claim:
    claim = claim_store.get_claim(conn, claim_id)
    if claim is None:
        raise NotFound(f"No claim {claim_id}.")
    return claim


def author_named(paper: Paper, name: str) -> str:
    """The paper's author ``name`` names (ignoring case and spacing), as the paper spells it."""
    key = " ".join(name.split()).casefold()
    if not key:
        raise UserError("Say which of the paper's authors you are.")
    for author in paper.authors:
        if " ".join(author.split()).casefold() == key:
            return author
    raise UserError(f"{name[:200]!r} is not one of this paper's authors.")


def claim(conn: Connection, user: User, paper_id: str, author: str) -> Claim:
    """Claim to be ``author`` of a paper; the claim waits for a curator."""
    paper = _paper(conn, paper_id)
    name = author_named(paper, author)
    claim_id = claim_store.create_claim(
        conn, paper_id=paper.id, user_id=user.id, author_name=name, now=utcnow()
    )
    if claim_id is None:
        existing = claim_store.claim_of(conn, paper.id, user.id)
        status = existing.status.value if existing else "pending"
        hint = " Reopen it instead." if status == ClaimStatus.REJECTED else ""
        raise Conflict(f"You already claimed this paper (the claim is {status}).{hint}")
    return _claim(conn, claim_id)


def _require_curator(user: User) -> None:
    if not user.is_curator:
        raise Forbidden("Only curators can verify or reject author claims.")


def verify(conn: Connection, curator: User, claim_id: int) -> Claim:
    """Verify a pending claim: its member is shown as that author of the paper."""
    _require_curator(curator)
    claim = _claim(conn, claim_id)
    if claim.user_id == curator.id:
        raise Forbidden("Another curator must verify your own claim.")
    if not claim.is_pending:
        raise Conflict(f"Only a pending claim can be verified; this one is {claim.status}.")
    key = claim.author_name.casefold()
    for other in claim_store.claims_for_paper(conn, claim.paper_id, ClaimStatus.VERIFIED):
        if other.author_name.casefold() == key:
            raise Conflict(
                f"{other.username} is already verified as {other.author_name} on this paper."
            )
    if not claim_store.change_status(
        conn,
        claim.id,
        allowed_from=(ClaimStatus.PENDING,),
        to=ClaimStatus.VERIFIED,
        decided_by=curator.id,
        now=utcnow(),
    ):
        raise Conflict("The claim changed meanwhile; reload and try again.")
    bump_content_version(conn)  # the paper page lists verified authors
    return _claim(conn, claim.id)


def reject(conn: Connection, curator: User, claim_id: int) -> Claim:
    """Reject a pending claim, or withdraw a verification made by mistake."""
    _require_curator(curator)
    claim = _claim(conn, claim_id)
    if claim.is_rejected:
        raise Conflict("The claim is already rejected.")
    if not claim_store.change_status(
        conn,
        claim.id,
        allowed_from=(claim.status,),
        to=ClaimStatus.REJECTED,
        decided_by=curator.id,
        now=utcnow(),
    ):
        raise Conflict("The claim changed meanwhile; reload and try again.")
    if claim.is_verified:
        bump_content_version(conn)
    return _claim(conn, claim.id)


def _require_claimant(user: User, claim: Claim) -> None:
    if claim.user_id != user.id:
        raise Forbidden("Only the member who made a claim can do this.")


def reopen(conn: Connection, user: User, claim_id: int) -> Claim:
    """Ask again after a rejection: the claim goes back to the curators' queue."""
    claim = _claim(conn, claim_id)
    _require_claimant(user, claim)
    if not claim.is_rejected:
        raise Conflict(f"Only a rejected claim can be reopened; this one is {claim.status}.")
    if not claim_store.change_status(
        conn,
        claim.id,
        allowed_from=(ClaimStatus.REJECTED,),
        to=ClaimStatus.PENDING,
        decided_by=None,
        now=None,
    ):
        raise Conflict("The claim changed meanwhile; reload and try again.")
    return _claim(conn, claim.id)


def withdraw(conn: Connection, user: User, claim_id: int) -> Claim:
    """Take back a pending claim (it is deleted; the member may claim again)."""
    claim = _claim(conn, claim_id)
    _require_claimant(user, claim)
    if not claim.is_pending:
        raise Conflict(f"Only a pending claim can be withdrawn; this one is {claim.status}.")
    if not claim_store.delete_claim(conn, claim.id, status=ClaimStatus.PENDING):
        raise Conflict("The claim changed meanwhile; reload and try again.")
    return claim


def paper_claims(conn: Connection, viewer: User | None, paper_id: str) -> list[Claim]:
    """A paper's claims as ``viewer`` may see them: verified ones, the viewer's own, and
    every claim for curators."""
    paper = _paper(conn, paper_id)
    if viewer is not None and viewer.is_curator:
        return claim_store.claims_for_paper(conn, paper.id)
    return [
        claim
        for claim in claim_store.claims_for_paper(conn, paper.id)
        if claim.is_verified or (viewer is not None and claim.user_id == viewer.id)
    ]


def queue(
    conn: Connection,
    curator: User,
    status: ClaimStatus = ClaimStatus.PENDING,
    *,
    limit: int = MAX_QUEUE,
    offset: int = 0,
) -> tuple[list[Claim], int]:
    """Claims of a status, oldest first, and how many there are (curators only)."""
    if not curator.is_curator:
        raise Forbidden("Only curators can see the claims queue.")
    return (
        claim_store.claims_with_status(conn, status, limit=limit, offset=offset),
        claim_store.count_with_status(conn, status),
    )


def my_claim(conn: Connection, user: User, paper_id: str) -> Claim | None:
    return claim_store.claim_of(conn, paper_id, user.id)


def verified_authors(conn: Connection, paper_id: str) -> list[tuple[str, str]]:
    """(author name, username) of the paper's verified authors."""
    return [
        (name, username) for name, username, _id in claim_store.verified_authors(conn, paper_id)
    ]
