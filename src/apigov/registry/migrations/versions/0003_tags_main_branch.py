"""Version tags and a per-service main branch (the Pact Broker's tags and `mainBranch`), and
an index for reading the pacts held against a provider.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "version_tags",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["version_id"], ["versions.id"]),
        # One row per tag of a version: tagging twice is settled by the database.
        sa.PrimaryKeyConstraint("version_id", "tag"),
    )
    with op.batch_alter_table("version_tags", schema=None) as batch_op:
        batch_op.create_index("ix_version_tags_tag", ["tag", "version_id"], unique=False)
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.add_column(sa.Column("main_branch", sa.String(length=200), nullable=True))
    with op.batch_alter_table("version_contracts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_version_contracts_provider_role_version",
            ["provider", "role", "version_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("version_contracts", schema=None) as batch_op:
        batch_op.drop_index("ix_version_contracts_provider_role_version")
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.drop_column("main_branch")
    with op.batch_alter_table("version_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_version_tags_tag")
    op.drop_table("version_tags")
