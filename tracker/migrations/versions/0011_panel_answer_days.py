"""how quickly a council aims to answer its co-production panel's comments, in working days

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-14 06:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('councils', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('panel_answer_days', sa.Integer(), server_default='20', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('councils', schema=None) as batch_op:
        batch_op.drop_column('panel_answer_days')
