"""the Director's summary and recommendations to the board, saved with the return at sign-off

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 06:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('returns', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('director_summary', sa.Text(), server_default='', nullable=False)
        )
        batch_op.add_column(
            sa.Column('board_recommendations', sa.JSON(), server_default='[]', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('returns', schema=None) as batch_op:
        batch_op.drop_column('board_recommendations')
        batch_op.drop_column('director_summary')
