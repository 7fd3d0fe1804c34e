"""comparison settings (a council's choice to share named returns)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 22:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    # Existing councils keep sharing, as before this column existed.
    with op.batch_alter_table("councils", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "shares_named_returns", sa.Boolean(), server_default=sa.true(), nullable=False
            )
        )


def downgrade():
    with op.batch_alter_table("councils", schema=None) as batch_op:
        batch_op.drop_column("shares_named_returns")
