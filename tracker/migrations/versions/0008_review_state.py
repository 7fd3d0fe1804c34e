"""review state: who confirmed a carried-forward assessment unchanged, and when

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confirmed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('confirmed_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_assessments_confirmed_by_id_users'), 'users', ['confirmed_by_id'], ['id']
        )


def downgrade():
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_assessments_confirmed_by_id_users'), type_='foreignkey'
        )
        batch_op.drop_column('confirmed_by_id')
        batch_op.drop_column('confirmed_at')
